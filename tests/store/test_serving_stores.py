"""Prediction logs, life signals and leases on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lightkeeper.clock import FixedClock
from lightkeeper.logstore import LogStore
from lightkeeper.store import Database
from lightkeeper.store.leases import LeaseStore
from lightkeeper.store.predictions import PredictionRecord
from lightkeeper.store.signals import LifeSignal, SignalStore

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def record(request_id: str, row: int = 0, **fields: object) -> PredictionRecord:
    values: dict = {
        "at": T0,
        "deployment": "credit-online",
        "request_id": request_id,
        "row": row,
        "version": 1,
        "arm": "champion",
        "inputs": {"income": 40.0, "region": "south"},
        "output": 1,
        "latency_ms": 0.8,
    }
    values.update(fields)
    return PredictionRecord(**values)


def test_prediction_logs_round_trip_in_batches(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    db.upgrade()
    store = LogStore(db, FixedClock(T0), tmp_path / "logs")
    store.add_many([record("a", 0), record("a", 1, output=0), record("b", arm="shadow")])
    store.add_many([record("c", error="ZeroDivisionError: x", output=None, flags=["age: low"])])
    assert store.count("credit-online") == 4 and store.count("other") == 0
    [c] = store.find("credit-online", request_id="c")
    assert (c.error, c.output, c.flags) == ("ZeroDivisionError: x", None, ["age: low"])
    assert c.at == T0 and c.inputs == {"income": 40.0, "region": "south"}
    assert [r.request_id for r in store.find("credit-online", arm="shadow")] == ["b"]
    assert store.find("credit-online", since=T0 + timedelta(seconds=1)) == []
    db.dispose()


def test_life_signals_keep_the_newest_beat_per_instance(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    store = SignalStore(db)
    beat = LifeSignal(
        instance_id="serve-h-1-abc",
        kind="serve",
        subject="credit-online",
        host="h",
        pid=1,
        started_at=T0,
        last_seen=T0,
        cadence_seconds=5,
        payload={"versions": {"champion": 1}},
    )
    store.beat(beat)
    later = T0 + timedelta(seconds=5)
    store.beat(LifeSignal(**{**beat.__dict__, "last_seen": later, "payload": {"n": 2}}))
    [signal] = store.all()
    assert signal.last_seen == later and signal.payload == {"n": 2}
    assert signal.alive(later + timedelta(seconds=15))
    assert not signal.alive(later + timedelta(seconds=16))
    assert signal.to_dict(later)["age_seconds"] == 0
    db.dispose()


def test_a_lease_has_one_holder_until_it_expires(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    clock = FixedClock(T0)
    leases = LeaseStore(db, clock)
    assert leases.acquire("rollout", "a", seconds=10)
    assert not leases.acquire("rollout", "b", seconds=10)
    assert leases.acquire("rollout", "a", seconds=10)  # renewal
    clock.advance(timedelta(seconds=11))
    assert leases.holder("rollout") is None
    assert leases.acquire("rollout", "b", seconds=10)
    assert leases.holder("rollout") == "b"
    leases.release("rollout", "b")
    assert leases.acquire("rollout", "a", seconds=10)
    db.dispose()
