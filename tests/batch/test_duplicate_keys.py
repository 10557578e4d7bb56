"""Entity keys that appear more than once in a batch input: rejected, or the last one kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from lightkeeper import Lightkeeper
from lightkeeper.batch.keys import DuplicateKeys, key_hashes
from lightkeeper.errors import InvalidInput, ManifestError, TooManyRejects
from lightkeeper.manifest import BatchInput, BatchOutput, parse_manifest
from lightkeeper.store.batch import BatchRun
from lightkeeper.testing import ANALYST, OPERATOR, credit_project
from support import BATCH, customers

DAY = "2026-11-27"


def run(lk: Lightkeeper, source: BatchInput, sink: BatchOutput, **kw: Any) -> BatchRun:
    return lk.batch.run(
        "credit-nightly", input=source, output=sink, partition=DAY, by=OPERATOR, **kw
    )


def parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "in.parquet") -> BatchInput:
    frame.to_parquet(tmp_path / name)
    return BatchInput(path=str(tmp_path / name))


def with_duplicates(n: int = 3000) -> pd.DataFrame:
    """``n`` customers (chunks of 1,000); key 6 twice (chunks 0 and 2), key 1201 three
    times (chunks 1 and 2), and two rows without a key (not duplicates: missing)."""
    rows = customers(n)
    rows["customer_id"] = pd.array(rows["customer_id"], dtype="Int64")
    rows.loc[2500, "customer_id"] = 6
    rows.loc[[1500, 2999], "customer_id"] = 1201
    rows.loc[[100, 101], "customer_id"] = pd.NA
    return rows


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_every_row_of_a_duplicated_key_is_rejected_across_chunks(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    sink = BatchOutput(path=str(tmp_path / "scores"))
    done = run(lk, parquet(tmp_path, with_duplicates()), sink)
    assert (done.rows_in, done.rows_out, done.rows_rejected) == (3000, 2993, 7)
    assert done.summary["duplicate_keys"] == {
        "policy": "reject",
        "keys": 2,
        "rows": 5,
        "rejected": 5,
    }
    out = pd.read_parquet(tmp_path / "scores")
    assert out["customer_id"].is_unique and not {6, 1201} & set(out["customer_id"])
    rejects = pd.read_parquet(tmp_path / "scores" / "_rejects")
    assert rejects["reason"].value_counts().to_dict() == {
        "entity key (customer_id=1201) appears 3 times in the input": 3,
        "entity key (customer_id=6) appears 2 times in the input": 2,
        "customer_id: the entity key is missing": 2,
    }


def test_a_sql_input_counts_its_duplicates_in_the_database(lk: Lightkeeper, warehouse: str) -> None:
    from lightkeeper.batch.sql import engine

    db = engine(warehouse)
    with_duplicates().to_sql("customers", db, index=False)
    source = BatchInput(url=warehouse, query="SELECT * FROM customers WHERE age > 0 -- all")
    done = run(lk, source, BatchOutput(url=warehouse, table="scores"))
    assert (done.rows_out, done.rows_rejected) == (2993, 7)
    assert done.summary["duplicate_keys"]["keys"] == 2
    with db.connect() as conn:
        found = conn.execute(
            sa.text("SELECT reason, COUNT(*) FROM scores_rejects GROUP BY reason ORDER BY 1")
        ).all()
    db.dispose()
    assert [tuple(r) for r in found] == [
        ("customer_id: the entity key is missing", 2),
        ("entity key (customer_id=1201) appears 3 times in the input", 3),
        ("entity key (customer_id=6) appears 2 times in the input", 2),
    ]


def test_duplicates_count_toward_the_reject_share(lk: Lightkeeper, tmp_path: Path) -> None:
    rows = customers(1000)
    rows.loc[rows.index[:60], "customer_id"] = rows["customer_id"].iloc[60:120].to_numpy()
    with pytest.raises(TooManyRejects, match=r"120 of 1,000 rows \(12.00%\) were rejected"):
        run(lk, parquet(tmp_path, rows), BatchOutput(path=str(tmp_path / "scores")))
    failed = lk.batch.runs("credit-nightly")[0]
    assert failed.summary["duplicate_keys"] == {
        "policy": "reject",
        "keys": 60,
        "rows": 120,
        "rejected": 120,
    }


def test_a_missing_key_column_is_named_before_anything_is_scored(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    rows = customers(10).drop(columns="customer_id")
    rows.to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InvalidInput, match=r"the input has no column customer_id \(in in.csv\)"):
        run(lk, BatchInput(path=str(tmp_path / "in.csv")), BatchOutput(path=str(tmp_path / "s")))
    with pytest.raises(InvalidInput, match=r"no column customer_id \(in in.parquet\)"):
        run(lk, parquet(tmp_path, rows), BatchOutput(path=str(tmp_path / "s")))


class Interrupted(BaseException):
    """Stands in for Ctrl-C after two chunks are staged."""


@pytest.fixture
def keep_last(lk: Lightkeeper, tmp_path: Path) -> int:
    """A version of the credit model whose manifest says ``duplicate_keys: keep_last``,
    released to credit-nightly."""
    append = BATCH.format(chunk_rows=1000) + "  duplicate_keys: keep_last\n"
    version = lk.training.train(credit_project(tmp_path, append=append), by=ANALYST).version
    lk.gate.run("credit", version, by=ANALYST)
    lk.gate.accept("credit", version, by=OPERATOR)
    lk.releases.release("credit-nightly", version, reason="keep the last row of a key", by=OPERATOR)
    return version


def test_keep_last_scores_the_last_row_even_when_a_run_is_taken_over(
    lk: Lightkeeper, keep_last: int, tmp_path: Path
) -> None:
    rows = with_duplicates()
    rows.loc[2999, "income"] = 321.0  # the last of key 1201, in the third chunk
    source, sink = parquet(tmp_path, rows), BatchOutput(path=str(tmp_path / "scores"))

    def stop_after_two_chunks(read: int, total: int | None) -> None:
        if read == 2000:
            raise Interrupted

    with pytest.raises(Interrupted):
        run(lk, source, sink, progress=stop_after_two_chunks)
    done = run(lk, source, sink)  # chunks 0 and 1 taken over: their keys still counted
    assert done.resumed_chunks == 2
    assert (done.rows_out, done.rows_rejected) == (2995, 5)
    assert done.summary["duplicate_keys"] == {
        "policy": "keep_last",
        "keys": 2,
        "rows": 5,
        "rejected": 3,
    }
    out = pd.read_parquet(tmp_path / "scores").set_index("customer_id")
    assert out.index.is_unique and {6, 1201} <= set(out.index)
    last = rows.loc[[2999], ["income", "age", "region"]]
    assert out.loc[1201, "prediction"] == lk.load("credit", keep_last).predict(last)[0]
    rejects = pd.read_parquet(tmp_path / "scores" / "_rejects")
    superseded = rejects[rejects["reason"].str.contains("superseded")]
    assert sorted(superseded["reason"]) == [
        "entity key (customer_id=1201) superseded by a later row",
        "entity key (customer_id=1201) superseded by a later row",
        "entity key (customer_id=6) superseded by a later row",
    ]
    assert 321.0 not in [json.loads(r)["income"] for r in superseded["row"]]


def test_batch_runs_shows_the_duplicates(lk: Lightkeeper, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with_duplicates().to_parquet(tmp_path / "in.parquet")
    args = ["--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "scores")]
    code, text, err = cli("batch", "run", "credit-nightly", *args)
    assert code == 0, err
    assert "2 entity key(s) appear more than once (5 rows; duplicate_keys: reject" in text
    code, text, _ = cli("batch", "runs", "credit-nightly")
    assert code == 0 and "dup keys" in text and "2 (5 rows)" in text
    code, text, _ = cli("batch", "runs", "credit-nightly", "--json")
    assert json.loads(text)["runs"][0]["summary"]["duplicate_keys"]["rows"] == 5


def test_keys_hash_alike_whatever_the_column_type_and_a_collision_is_no_duplicate() -> None:
    ids = [1234, 2**53 + 1]
    frames = [
        pd.DataFrame({"k": pd.array(ids, dtype="Int64"), "r": ["a", "b"]}),
        pd.DataFrame({"k": np.array(ids, dtype=np.int64), "r": pd.array(["a", "b"], "string")}),
        pd.DataFrame({"k": [1234.0, float(2**53 + 2)], "r": np.array(["a", "b"], dtype=object)}),
    ]
    hashes = [key_hashes(f, ["k", "r"])[0] for f in frames]
    assert hashes[0][0] == hashes[1][0] == hashes[2][0] and hashes[0][1] == hashes[1][1]
    assert hashes[2][1] != hashes[0][1]  # 2**53 + 2 is another key
    frame = pd.DataFrame({"k": [1, 2, 1]})
    everything = key_hashes(frame, ["k"])[0]  # as if key 2 collided with key 1
    duplicates = DuplicateKeys(["k"], "reject", {("1",): 2}, np.unique(everything))
    split = duplicates.split(frame)
    assert split is not None and split[0].tolist() == [True, False, True]


def test_the_policy_is_checked_in_the_manifest() -> None:
    text = "name: m\nkind: batch\nentrypoints: {train: t:train}\n"
    text += "input_schema: [{name: x, type: float}]\n"
    assert parse_manifest(text).batch.duplicate_keys == "reject"
    with pytest.raises(ManifestError, match=r"batch\.duplicate_keys: 'first' is not allowed"):
        parse_manifest(text + "batch:\n  duplicate_keys: first\n")
