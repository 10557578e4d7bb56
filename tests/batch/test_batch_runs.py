"""Batch runs end to end: Parquet, SQL, rejects, holdout, canary, rollback, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from lightkeeper import Lightkeeper
from lightkeeper.errors import (
    InvalidInput,
    ReleaseRefused,
    RunInProgress,
    TooManyRejects,
)
from lightkeeper.manifest import BatchInput, BatchOutput
from lightkeeper.split import bucket
from lightkeeper.testing import OPERATOR
from support import customers

DAY = "2026-11-27"


def files(tmp_path: Path, frame: pd.DataFrame, name: str = "in.parquet") -> BatchInput:
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    return BatchInput(path=str(path))


def run(lk: Lightkeeper, source: BatchInput, sink: BatchOutput, partition: str = DAY, **kw):  # type: ignore[no-untyped-def]
    return lk.batch.run(
        "credit-nightly", input=source, output=sink, partition=partition, by=OPERATOR, **kw
    )


def test_parquet_in_parquet_out_with_keys_versions_holdout_and_summary(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    rows = customers(2500)
    sink = BatchOutput(path=str(tmp_path / "scores"))
    done = run(lk, files(tmp_path, rows), sink)
    assert (done.status, done.rows_in, done.rows_out, done.rows_rejected) == (
        "succeeded",
        2500,
        2500,
        0,
    )
    assert done.chunks == 3 and done.versions == {"1": 2500}
    out = pd.read_parquet(tmp_path / "scores").sort_values("customer_id")
    expected = lk.load("credit", 1).predict(rows[["income", "age", "region"]])
    assert out["customer_id"].tolist() == rows["customer_id"].tolist()
    assert out["prediction"].tolist() == expected.tolist()
    assert set(out.columns) >= {"proba_0", "proba_1", "model_version", "run_id", "scored_at"}
    assert set(out["partition"].astype(str)) == {DAY} and set(out["run_id"]) == {done.id}
    assert np.allclose(out["proba_0"] + out["proba_1"], 1.0)
    shares = done.summary["class_shares"]
    assert shares["1"] == pytest.approx((expected == 1).mean(), abs=1e-6)
    assert 0 < done.summary["score"]["quantiles"]["0.5"] < 1
    [event] = lk.audit_entries(kind="batch.finished")
    assert event.payload["rows_out"] == 2500 and event.payload["run_id"] == done.id
    assert not (tmp_path / "scores" / "_lk_staging").exists() or not any(
        (tmp_path / "scores" / "_lk_staging").iterdir()
    )


def test_a_rerun_replaces_its_partition_and_another_partition_adds(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    sink = BatchOutput(path=str(tmp_path / "scores"))
    source = files(tmp_path, customers(1500))
    first = run(lk, source, sink)
    again = run(lk, source, sink)
    other = run(lk, source, sink, partition="2026-11-28")
    out = pd.read_parquet(tmp_path / "scores")
    assert len(out) == 3000  # two partitions, no duplicates
    today = out[out["partition"].astype(str) == DAY]
    assert set(today["run_id"]) == {again.id} and today["customer_id"].is_unique
    assert first.id != again.id != other.id
    listed = lk.batch.runs("credit-nightly")
    assert [r.id for r in listed] == [other.id, again.id, first.id]
    assert [r.id for r in lk.batch.runs("credit-nightly", partition=DAY)] == [again.id, first.id]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A warehouse database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_sql_in_and_out_with_rejects_beside_the_output(lk: Lightkeeper, warehouse: str) -> None:
    from lightkeeper.batch.sql import engine

    rows = customers(2200)
    rows.loc[5, "age"] = 12  # below the minimum
    rows.loc[7, "region"] = "west"  # unknown category
    db = engine(warehouse)
    rows.to_sql("customers", db, index=False)
    sink = BatchOutput(url=warehouse, table="scores")
    done = run(lk, BatchInput(url=warehouse, table="customers"), sink)
    assert (done.rows_in, done.rows_out, done.rows_rejected) == (2200, 2198, 2)
    query = BatchInput(url=warehouse, query="SELECT * FROM customers WHERE customer_id <= 1000")
    later = run(lk, query, sink, partition="2026-11-28")
    assert later.rows_in == 1000
    again = run(lk, BatchInput(url=warehouse, table="customers"), sink)  # replaces DAY
    with db.connect() as conn:
        counts = dict(
            conn.execute(sa.text("SELECT partition, COUNT(*) FROM scores GROUP BY 1")).all()
        )
        rejects = conn.execute(
            sa.text(
                "SELECT customer_id, reason, run_id FROM scores_rejects "
                f"WHERE partition = '{DAY}' ORDER BY customer_id"
            )
        ).all()
        tables = set(sa.inspect(conn).get_table_names())
    assert counts == {DAY: 2198, "2026-11-28": 998}
    assert [(r[0], r[1]) for r in rejects] == [
        (6, "age: is below the minimum 18"),
        (8, "region: is not a known category"),
    ]
    assert {r[2] for r in rejects} == {again.id}
    assert not any(name.startswith("lk_stage_") for name in tables)
    db.dispose()


def test_too_many_rejects_fail_the_run_and_publish_nothing(lk: Lightkeeper, tmp_path: Path) -> None:
    sink = BatchOutput(path=str(tmp_path / "scores"))
    good = run(lk, files(tmp_path, customers(1000)), sink)
    rows = customers(1000)
    rows.loc[rows.index[:100], "income"] = -5.0  # 10% > max_reject_share 5%
    with pytest.raises(TooManyRejects, match=r"100 of 1,000 rows \(10.00%\) were rejected"):
        run(lk, files(tmp_path, rows, "bad.parquet"), sink)
    failed = lk.batch.runs("credit-nightly")[0]
    assert failed.status == "failed" and "TooManyRejects" in (failed.error or "")
    out = pd.read_parquet(tmp_path / "scores")
    assert set(out["run_id"]) == {good.id} and len(out) == 1000  # the old partition stands
    assert not list((tmp_path / "scores").glob("_lk_staging/*/out/*.parquet"))
    [event] = lk.audit_entries(kind="batch.failed")
    assert event.payload["resumable"] is False


def test_csv_input_and_flags_of_rows_kept(lk: Lightkeeper, tmp_path: Path) -> None:
    rows = customers(300)
    rows["income"] = rows["income"].astype(object)
    rows.loc[3, "income"] = "lots"
    done = run(lk, files(tmp_path, rows, "in.csv"), BatchOutput(path=str(tmp_path / "s")))
    assert (done.rows_in, done.rows_rejected) == (300, 1)
    rejects = pd.read_parquet(tmp_path / "s" / "_rejects")
    [reason] = rejects["reason"].tolist()
    assert reason == "income: is not a number" and '"lots"' in rejects["row"].iloc[0]


def test_holdout_share_is_binomial_and_stable_per_key(lk: Lightkeeper, tmp_path: Path) -> None:
    sink = BatchOutput(path=str(tmp_path / "scores"))
    n = 5000
    run(lk, files(tmp_path, customers(n)), sink)
    run(lk, files(tmp_path, customers(n, seed=9), "other.parquet"), sink, partition="2026-11-28")
    out = pd.read_parquet(tmp_path / "scores")
    day1 = out[out["partition"].astype(str) == DAY].set_index("customer_id")["holdout"]
    day2 = out[out["partition"].astype(str) != DAY].set_index("customer_id")["holdout"]
    sd = (0.2 * 0.8 / n) ** 0.5
    assert abs(day1.mean() - 0.2) < 4 * sd
    assert (day1.sort_index() == day2.sort_index()).all()  # same key, same group, other data


def test_canary_scores_a_share_of_keys_with_the_challenger(lk: Lightkeeper, tmp_path: Path) -> None:
    lk.releases.release(
        "credit-nightly", 2, strategy="canary", percent=30, reason="canary", by=OPERATOR
    )
    n = 4000
    done = run(lk, files(tmp_path, customers(n)), BatchOutput(path=str(tmp_path / "scores")))
    out = pd.read_parquet(tmp_path / "scores")
    expected = np.where([bucket(str(k)) < 30 for k in out["customer_id"]], 2, 1)
    assert (out["model_version"].to_numpy() == expected).all()  # the online routing buckets
    share = (out["model_version"] == 2).mean()
    assert abs(share - 0.3) < 4 * (0.3 * 0.7 / n) ** 0.5
    assert done.versions == {"1": int((expected == 1).sum()), "2": int((expected == 2).sum())}


def test_rollback_then_rerun_uses_the_previous_version(lk: Lightkeeper, tmp_path: Path) -> None:
    sink = BatchOutput(path=str(tmp_path / "scores"))
    source = files(tmp_path, customers(1200))
    lk.releases.release("credit-nightly", 2, reason="v2", by=OPERATOR)
    assert run(lk, source, sink).versions == {"2": 1200}
    lk.releases.rollback("credit-nightly", reason="v2 looks off", by=OPERATOR)
    assert run(lk, source, sink).versions == {"1": 1200}
    out = pd.read_parquet(tmp_path / "scores")
    assert set(out["model_version"]) == {1} and len(out) == 1200


def test_a_model_that_raises_fails_the_run_and_keeps_the_old_partition(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    sink = BatchOutput(path=str(tmp_path / "scores"))
    run(lk, files(tmp_path, customers(1500)), sink)
    lk.releases.release("credit-nightly", 3, reason="v3", by=OPERATOR)
    rows = customers(1500)
    rows.loc[1200, "income"] = 123.456  # version 3 raises on this value (second chunk)
    with pytest.raises(ZeroDivisionError):
        run(lk, files(tmp_path, rows, "boom.parquet"), sink)
    failed = lk.batch.runs("credit-nightly")[0]
    assert failed.status == "failed" and failed.chunks == 1  # the first chunk was staged
    assert set(pd.read_parquet(tmp_path / "scores")["model_version"]) == {1}
    [event] = lk.audit_entries(kind="batch.failed")
    assert event.payload["resumable"] is True


def test_refusals_name_the_problem(lk: Lightkeeper, tmp_path: Path) -> None:
    source = files(tmp_path, customers(10))
    sink = BatchOutput(path=str(tmp_path / "scores"))
    with pytest.raises(ReleaseRefused, match="shadow copies live traffic"):
        lk.releases.release("credit-nightly", 2, strategy="shadow", reason="s", by=OPERATOR)
    lk.releases.create("credit-online", model="credit", kind="online", by=OPERATOR)
    with pytest.raises(InvalidInput, match="credit-online is an online deployment"):
        lk.batch.run("credit-online", input=source, output=sink, by=OPERATOR)
    lk.releases.create("credit-later", model="credit", kind="batch", by=OPERATOR)
    with pytest.raises(ReleaseRefused, match="credit-later has no release yet"):
        lk.batch.run("credit-later", input=source, output=sink, by=OPERATOR)
    with pytest.raises(InvalidInput, match="no input for credit-nightly"):
        lk.batch.run("credit-nightly", output=sink, by=OPERATOR)
    with pytest.raises(InvalidInput, match="not a usable partition name"):
        run(lk, source, sink, partition="../etc")
    with pytest.raises(InvalidInput, match="the input has no column age"):
        run(lk, files(tmp_path, customers(10).drop(columns="age"), "noage.parquet"), sink)
    with pytest.raises(InvalidInput, match="no input files at"):
        run(lk, BatchInput(path=str(tmp_path / "nothing-*.parquet")), sink)
    with pytest.raises(InvalidInput, match="has no rows"):
        run(lk, files(tmp_path, customers(0), "empty.parquet"), sink)
    lk.stores.leases.acquire(f"batch:credit-nightly:{DAY}", "batch-elsewhere-1-abc", seconds=60)
    with pytest.raises(RunInProgress, match="already running \\(batch-elsewhere-1-abc\\)"):
        run(lk, source, sink)
    assert not list(tmp_path.glob("scores/partition=*"))  # nothing published


def test_an_input_file_broken_midway_fails_the_run_and_publishes_nothing(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    customers(1500).to_parquet(folder / "a.parquet")
    (folder / "b.parquet").write_bytes(b"PAR1 not really parquet")
    sink = BatchOutput(path=str(tmp_path / "scores"))
    with pytest.raises(InvalidInput, match=r"b\.parquet"):
        run(lk, BatchInput(path=str(folder)), sink)
    failed = lk.batch.runs("credit-nightly")[0]
    assert failed.status == "failed" and not (tmp_path / "scores" / f"partition={DAY}").exists()


def test_a_csv_broken_midway_fails_while_reading_ahead(lk: Lightkeeper, tmp_path: Path) -> None:
    rows = customers(2500)
    text = rows.to_csv(index=False).splitlines()
    text.insert(2200, "1,2,3,4,5,6")  # a line with too many fields, in the third chunk
    (tmp_path / "in.csv").write_text("\n".join(text) + "\n")
    sink = BatchOutput(path=str(tmp_path / "scores"))
    with pytest.raises(InvalidInput, match=r"in\.csv: Error tokenizing data"):
        run(lk, BatchInput(path=str(tmp_path / "in.csv")), sink)
    failed = lk.batch.runs("credit-nightly")[0]
    assert failed.status == "failed" and failed.chunks == 2
    assert not (tmp_path / "scores" / f"partition={DAY}").exists()


class Interrupted(BaseException):
    """Stands in for Ctrl-C (or a kill) after some chunks are staged."""


def interrupt_after(chunks: int):  # type: ignore[no-untyped-def]
    seen = []

    def progress(rows: int, total: int | None) -> None:
        seen.append(rows)
        if len(seen) == chunks:
            raise Interrupted

    return progress


def test_an_interrupted_run_is_taken_over_only_on_the_same_input_and_output(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    source = files(tmp_path, customers(3500))
    x, y = BatchOutput(path=str(tmp_path / "x")), BatchOutput(path=str(tmp_path / "y"))
    with pytest.raises(Interrupted):
        run(lk, source, x, progress=interrupt_after(2))
    assert run(lk, source, y).resumed_chunks == 0  # another output: its own stage
    assert run(lk, source, x).resumed_chunks == 2  # the same input and output: taken over
    with pytest.raises(Interrupted):
        run(lk, source, x, partition="p2", progress=interrupt_after(2))
    changed = customers(3500, seed=11, start=50_000)
    changed.to_parquet(source.path)  # the same file name, other rows
    done = run(lk, source, x, partition="p2")
    assert done.resumed_chunks == 0
    out = pd.read_parquet(tmp_path / "x")
    p2 = out[out["partition"].astype(str) == "p2"]
    assert sorted(p2["customer_id"]) == sorted(changed["customer_id"])  # nothing stale


def test_big_integer_keys_survive_nulls_and_chunks_share_one_schema(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    rows = customers(2500)
    rows["customer_id"] = pd.array(rows["customer_id"] + 2**53, dtype="Int64")
    rows.loc[1500, "customer_id"] = pd.NA  # a missing key, in the second chunk: rejected
    done = run(lk, files(tmp_path, rows), BatchOutput(path=str(tmp_path / "scores")))
    assert (done.rows_out, done.rows_rejected) == (2499, 1)
    out = pd.read_parquet(tmp_path / "scores")  # one dataset: every chunk has one schema
    expected = set(rows["customer_id"].dropna().astype("int64"))
    assert set(out["customer_id"].astype("int64")) == expected  # 2**53 + n, exact


def test_csv_keys_keep_leading_zeros(lk: Lightkeeper, tmp_path: Path) -> None:
    rows = customers(50).astype({"customer_id": str})
    rows["customer_id"] = rows["customer_id"].str.zfill(6)
    run(lk, files(tmp_path, rows, "in.csv"), BatchOutput(path=str(tmp_path / "s")))
    out = pd.read_parquet(tmp_path / "s")
    assert sorted(out["customer_id"]) == sorted(rows["customer_id"])  # "000001", ...


def test_a_query_is_passed_as_written(lk: Lightkeeper, tmp_path: Path) -> None:
    from lightkeeper.batch.sql import engine

    url = f"sqlite:///{tmp_path / 'w.db'}"
    db = engine(url)
    customers(300).to_sql("customers", db, index=False)
    db.dispose()
    query = "SELECT * FROM customers WHERE region <> 'a:b' -- every region"
    done = run(lk, BatchInput(url=url, query=query), BatchOutput(url=url, table="scores"))
    assert done.rows_out == 300


def test_an_output_table_in_a_schema_that_does_not_exist_is_invalid_input(
    lk: Lightkeeper, warehouse: str, tmp_path: Path
) -> None:
    sink = BatchOutput(url=warehouse, table="nowhere.scores")
    with pytest.raises(InvalidInput, match="names the schema 'nowhere', which does not exist") as e:
        run(lk, files(tmp_path, customers(10)), sink)
    assert "CREATE SCHEMA nowhere" in e.value.hint
    [failed] = lk.batch.runs("credit-nightly")
    assert failed.status == "failed" and "InvalidInput" in (failed.error or "")


def test_a_schema_qualified_table_on_postgres(lk: Lightkeeper, postgres_url: str) -> None:
    from lightkeeper.batch.sql import engine

    db = engine(postgres_url)
    with db.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA analytics"))
    customers(1200).to_sql("customers", db, schema="analytics", index=False)
    source = BatchInput(url=postgres_url, table="analytics.customers")
    done = run(lk, source, BatchOutput(url=postgres_url, table="analytics.scores"))
    with db.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM analytics.scores")).scalar_one()
        tables = sa.inspect(conn).get_table_names(schema="analytics")
    db.dispose()
    assert count == done.rows_out == 1200 and not any(t.startswith("lk_stage") for t in tables)


def test_a_run_logs_its_scored_rows_for_the_monitors(lk: Lightkeeper, tmp_path: Path) -> None:
    rows = customers(2500, seed=21)
    done = run(lk, files(tmp_path, rows), BatchOutput(path=str(tmp_path / "scores")))
    logged = lk.logs.find("credit-nightly", limit=5000)
    assert len(logged) == 2500 and {r.request_id for r in logged} == {f"batch-{done.id}"}
    out = pd.read_parquet(tmp_path / "scores").set_index("customer_id")["prediction"]
    first = logged[0]
    assert set(first.inputs) == {"customer_id", "income", "age", "region"}
    assert first.output == out[first.inputs["customer_id"]] and first.version == 1
    result = lk.drift.run("credit-nightly", by=OPERATOR)
    assert (result.status, result.rows) == ("ok", 2500)
    again = run(lk, files(tmp_path, rows), BatchOutput(path=str(tmp_path / "scores")))
    relogged = lk.logs.find("credit-nightly", limit=5000)  # the partition's sample replaced
    assert len(relogged) == 2500 and {r.request_id for r in relogged} == {f"batch-{again.id}"}


def test_the_logged_sample_is_uniform_and_bounded() -> None:
    from lightkeeper.batch.summary import RowSample

    sample = RowSample(500, seed=1)
    for start in range(0, 20_000, 1000):
        chunk = pd.DataFrame({"id": np.arange(start, start + 1000)})
        sample.add(chunk, ["id"], twice=chunk["id"].to_numpy() * 2)
    kept = sample.rows()
    assert kept is not None and len(kept) == 500 and kept["id"].is_unique
    assert (kept["twice"] == kept["id"] * 2).all()  # the extra values stay with their rows
    assert 8_000 < kept["id"].mean() < 12_000  # not the first or the last rows
    assert RowSample(0).rows() is None


def test_labels_join_batch_scores_by_entity_key_and_time(lk: Lightkeeper, tmp_path: Path) -> None:
    rows = customers(1200, seed=22)
    done = run(lk, files(tmp_path, rows), BatchOutput(path=str(tmp_path / "scores")))
    scored_at = lk.stores.batch_runs.get(done.id).finished_at
    assert scored_at is not None
    later = (scored_at + pd.Timedelta(days=30)).isoformat()
    outcomes = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(str),  # text keys join numeric ones
            "defaulted": (rows["income"] < 40).astype(int),
            "observed_at": later,
        }
    )
    outcomes.loc[0, "observed_at"] = "2020-01-01T00:00:00Z"  # before any score: no match
    joined = lk.labels.ingest("credit-nightly", outcomes, at="observed_at", by=OPERATOR)
    assert (joined.joined_by, joined.matched, joined.unmatched) == ("entity key", 1199, 1)
    assert joined.examples == ["key 1 at or before 2020-01-01 00:00"]
    result = lk.performance.run("credit-nightly", by=OPERATOR)
    assert result.rows == 1199 and "accuracy" in result.result["measured"]["all"]["metrics"]
    with pytest.raises(InvalidInput, match="not dates or times"):
        lk.labels.ingest(
            "credit-nightly", outcomes.assign(observed_at="soon"), at="observed_at", by=OPERATOR
        )
