"""Monitor results and the streamed read of a window of prediction logs, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lightkeeper.clock import FixedClock
from lightkeeper.errors import MonitorResultNotFound
from lightkeeper.logstore import LogStore
from lightkeeper.store import Database
from lightkeeper.store.monitors import MonitorStore
from lightkeeper.store.predictions import PredictionRecord

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def save(store: MonitorStore, deployment: str, hours: int, status: str = "ok") -> int:
    return store.save(
        deployment,
        "drift",
        window_start=T0 - timedelta(hours=hours),
        window_end=T0,
        version=2,
        rows=10,
        status=status,
        value=0.5,
        result={"window": f"{hours}h", "features": {"drifted": ["a"]}},
        actor="olga",
    ).id


def test_results_are_stored_listed_and_a_window_checked_again_replaced(db: Database) -> None:
    store = MonitorStore(db, FixedClock(T0))
    first = save(store, "d", 24)
    other = save(store, "d", 6)
    save(store, "elsewhere", 24)
    again = save(store, "d", 24, status="drift")
    listed = store.list("d")
    assert {r.id for r in listed} == {other, again} and first not in {r.id for r in listed}
    result = store.get(again, deployment="d")
    assert (result.status, result.window_start, result.window_end) == (
        "drift",
        T0 - timedelta(hours=24),
        T0,
    )
    assert result.result["features"]["drifted"] == ["a"] and result.computed_at == T0
    with pytest.raises(MonitorResultNotFound, match=f"no monitor result {again} of elsewhere"):
        store.get(again, deployment="elsewhere")


def test_a_window_of_logs_is_streamed_in_chunks_without_shadows_or_errors(
    db: Database, tmp_path: Path
) -> None:
    store = LogStore(db, FixedClock(T0), tmp_path / "logs")

    def record(i: int, **changes: object) -> PredictionRecord:
        values: dict[str, object] = {
            "at": T0 - timedelta(minutes=i),
            "deployment": "d",
            "request_id": f"r{i}",
            "row": 0,
            "version": 1 + i % 2,
            "arm": "champion",
            "inputs": {"x": i},
            "output": i % 3,
            "latency_ms": 1.0,
        }
        values.update(changes)
        return PredictionRecord(**values)  # type: ignore[arg-type]

    store.add_many([record(i) for i in range(1, 251)])
    store.add_many([record(i, arm="shadow") for i in range(1, 20)])
    store.add_many([record(i, error="boom", output=None) for i in range(1, 20)])
    store.add_many([record(i, deployment="other") for i in range(1, 20)])
    store.add_many([record(0)])  # at the window's end: outside [start, end)
    frames = list(
        store.served_frames(
            "d", start=T0 - timedelta(minutes=200), end=T0, features=["x", "absent"], chunk=64
        )
    )
    assert sum(len(f) for f in frames) == 200 and max(len(f) for f in frames) <= 64
    rows = [row for f in frames for row in f.itertuples(index=False)]
    assert sorted(r.x for r in rows) == list(range(1, 201))
    assert all(r.output == r.x % 3 and r.version == 1 + r.x % 2 for r in rows)
    assert all(r.absent is None for r in rows)  # a feature never logged: all missing
