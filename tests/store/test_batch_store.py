"""Batch run records on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lightkeeper.clock import FixedClock
from lightkeeper.errors import InvalidInput
from lightkeeper.store import Database
from lightkeeper.store.batch import BatchRunStore

T0 = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)


def test_batch_runs_start_progress_finish_and_list(db: Database) -> None:
    clock = FixedClock(T0)
    store = BatchRunStore(db, clock)
    first = store.start(
        "nightly", "2026-11-26", release_id=3, input="in", output="out", actor="o", instance_id="i"
    )
    assert (first.status, first.rows_in, first.finished_at, first.seconds) == (
        "running",
        0,
        None,
        None,
    )
    store.update(first.id, rows_in=10, rows_out=9, rows_rejected=1, chunks=1, versions={"3": 9})
    clock.advance(timedelta(seconds=90))
    done = store.finish(first.id, "succeeded", summary={"rows": 9})
    assert (done.status, done.rows_out, done.versions, done.seconds) == (
        "succeeded",
        9,
        {"3": 9},
        90,
    )
    second = store.start(
        "nightly", "2026-11-27", release_id=3, input="in", output="out", actor="o", instance_id="j"
    )
    failed = store.finish(second.id, "failed", error="ZeroDivisionError: x")
    assert failed.error == "ZeroDivisionError: x" and failed.to_dict()["status"] == "failed"
    assert [r.id for r in store.list("nightly")] == [second.id, first.id]
    assert [r.id for r in store.list("nightly", partition="2026-11-26")] == [first.id]
    assert [r.id for r in store.list("nightly", status="failed")] == [second.id]
    assert store.last_succeeded("nightly") == done and store.last_succeeded("other") is None
    with pytest.raises(InvalidInput, match="not a final batch run status"):
        store.finish(first.id, "running")
    with pytest.raises(InvalidInput, match="cannot update status"):
        store.update(first.id, status="succeeded")
    with pytest.raises(InvalidInput, match="no batch run 999"):
        store.get(999)
