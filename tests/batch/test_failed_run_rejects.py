"""A run that fails on too many rejects publishes nothing but keeps its rejects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from lightkeeper import Lightkeeper
from lightkeeper.errors import TooManyRejects
from lightkeeper.manifest import BatchInput, BatchOutput
from lightkeeper.store.batch import BatchRun
from lightkeeper.testing import OPERATOR
from support import customers

DAY = "2026-11-27"


def run(lk: Lightkeeper, source: BatchInput, sink: BatchOutput, **kw: Any) -> BatchRun:
    return lk.batch.run(
        "credit-nightly", input=source, output=sink, partition=DAY, by=OPERATOR, **kw
    )


def bad_rows(n: int = 2500) -> pd.DataFrame:
    """10% of the rows (in every chunk) below the minimum income: more than the 5% allowed."""
    rows = customers(n)
    rows.loc[rows.index[::10], "income"] = -5.0
    return rows


def good_rows() -> pd.DataFrame:
    """1,500 customers, one of them too young: one reject, under the 5% allowed."""
    rows = customers(1500)
    rows.loc[3, "age"] = 12
    return rows


def test_a_parquet_output_keeps_them_under_the_run_apart_from_every_partition(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    customers_in = tmp_path / "in.parquet"
    sink = BatchOutput(path=str(tmp_path / "scores"))
    good_rows().to_parquet(customers_in)
    good = run(lk, BatchInput(path=str(customers_in)), sink)
    bad_rows().to_parquet(customers_in)
    with pytest.raises(TooManyRejects) as failure:
        run(lk, BatchInput(path=str(customers_in)), sink)
    failed = lk.batch.runs("credit-nightly")[0]
    kept = tmp_path / "scores" / "_rejects" / "_failed" / f"run={failed.id}"
    assert f"nothing was published; the rejected rows are kept in {kept}" in str(failure.value)
    assert failed.summary["rejects_kept"] == str(kept) and str(kept) in (failed.error or "")
    rejects = pd.read_parquet(kept)
    assert len(rejects) == 250 and set(rejects["run_id"]) == {failed.id}
    assert set(rejects["reason"]) == {"income: is below the minimum 0"}
    assert json.loads(rejects["row"].iloc[0])["income"] == -5.0
    published = pd.read_parquet(tmp_path / "scores" / "_rejects")  # _failed/ is not read
    assert set(published["run_id"]) == {good.id} and len(published) == 1
    out = pd.read_parquet(tmp_path / "scores")
    assert set(out["run_id"]) == {good.id} and len(out) == 1499  # the old partition stands
    assert not list((tmp_path / "scores").glob("_lk_staging/*/*/*.parquet"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_a_sql_output_keeps_them_with_the_run_id_and_no_partition(
    lk: Lightkeeper,
    warehouse: str,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    from lightkeeper.batch.sql import engine

    db = engine(warehouse)
    good_rows().to_sql("good", db, index=False)
    bad_rows().to_sql("bad", db, index=False)
    sink = BatchOutput(url=warehouse, table="scores")
    good = run(lk, BatchInput(url=warehouse, table="good"), sink)
    with pytest.raises(TooManyRejects, match=r"kept in table scores_rejects at .*, run_id \d+"):
        run(lk, BatchInput(url=warehouse, table="bad"), sink)
    failed = lk.batch.runs("credit-nightly")[0]
    assert f"run_id {failed.id} (partition NULL)" in failed.summary["rejects_kept"]
    again = run(lk, BatchInput(url=warehouse, table="good"), sink)  # replaces DAY's rejects
    query = "SELECT run_id, partition, COUNT(*) FROM scores_rejects GROUP BY 1, 2 ORDER BY 1"
    with db.connect() as conn:
        found = [tuple(r) for r in conn.execute(sa.text(query))]
        scored = conn.execute(sa.text("SELECT DISTINCT run_id FROM scores")).scalars().all()
        tables = sa.inspect(conn).get_table_names()
    db.dispose()
    assert found == [(failed.id, None, 250), (again.id, DAY, 1)]  # good's replaced by again's
    assert scored == [again.id] and good.id < failed.id < again.id
    assert not any(name.startswith("lk_stage_") for name in tables)
    code, text, _ = cli("batch", "runs", "credit-nightly", "--json")
    listed = {r["id"]: r for r in json.loads(text)["runs"]}
    assert code == 0 and "scores_rejects" in listed[failed.id]["summary"]["rejects_kept"]
    code, text, _ = cli("batch", "runs", "credit-nightly")
    assert code == 0 and "kept in table scores_rejects" in " ".join(text.split())


def test_rejects_that_cannot_be_kept_are_said_so_and_nothing_is_published(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    from lightkeeper.batch.sql import engine

    url = f"sqlite:///{tmp_path / 'w.db'}"
    db = engine(url)
    bad_rows().to_sql("bad", db, index=False)
    with db.begin() as conn:  # somebody else's table, in the way
        conn.execute(sa.text("CREATE TABLE scores_rejects (customer_id INTEGER)"))
    with pytest.raises(
        TooManyRejects,
        match=r"the rejected rows could not be kept \(the table scores_rejects has no column",
    ):
        run(lk, BatchInput(url=url, table="bad"), BatchOutput(url=url, table="scores"))
    failed = lk.batch.runs("credit-nightly")[0]
    assert failed.status == "failed" and "rejects_kept" not in failed.summary
    with db.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        kept = conn.execute(sa.text("SELECT COUNT(*) FROM scores_rejects")).scalar_one()
    db.dispose()
    assert tables == {"bad", "scores_rejects"} and kept == 0
