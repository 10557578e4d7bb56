"""The loop abstraction: leases between processes, rounds and decisions recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lightkeeper.clock import FixedClock
from lightkeeper.controlplane.loop import Loop
from lightkeeper.decisions import Decision
from lightkeeper.store import Database
from lightkeeper.store.leases import LeaseStore
from lightkeeper.store.loops import LoopStore

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    database.upgrade()
    yield database
    database.dispose()


def loop(db: Database, clock: FixedClock, holder: str, work: object, **options: object) -> Loop:
    return Loop(
        "watchdog",
        work,  # type: ignore[arg-type]
        interval=15,
        holder=holder,
        leases=LeaseStore(db, clock),
        records=LoopStore(db, clock),
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def test_one_process_works_the_other_stands_by_until_the_lease_expires(db: Database) -> None:
    clock = FixedClock(T0)
    rounds: list[str] = []
    forgotten: list[str] = []

    def work(name: str) -> object:
        return lambda: rounds.append(name) or [Decision.ran("credit-online", f"by {name}")]

    first = loop(db, clock, "up-1", work("up-1"))
    second = loop(db, clock, "up-2", work("up-2"), standby=lambda: forgotten.append("up-2"))
    assert first.round().state == "working"
    assert second.round().state == "standby"
    assert (rounds, forgotten) == (["up-1"], ["up-2"])

    clock.advance(timedelta(seconds=61))  # up-1 died without giving the lease up
    assert second.round().state == "working"
    assert first.round().state == "standby"
    statuses = {s.holder: s.state for s in LoopStore(db, clock).statuses("watchdog")}
    assert statuses == {"up-1": "standby", "up-2": "working"}
    reasons = [d.reason for d in LoopStore(db, clock).decisions(loop="watchdog")]
    assert reasons == ["by up-2", "by up-1"]


def test_a_failing_round_is_recorded_and_the_next_one_runs(db: Database) -> None:
    clock = FixedClock(T0)
    calls = iter([RuntimeError("the model store is down"), [Decision.skipped("*", "all quiet")]])

    def work() -> list[Decision]:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    watchdog = loop(db, clock, "up-1", work)
    failed = watchdog.round()
    assert (failed.state, failed.error) == ("failing", "the model store is down")
    assert watchdog.round().state == "working"
    records = LoopStore(db, clock)
    assert [(d.outcome, d.reason) for d in records.decisions()] == [
        ("skipped", "all quiet"),
        ("failed", "the model store is down"),
    ]
    [status] = records.statuses()
    assert (status.state, status.rounds, status.last_error) == ("working", 2, None)


def test_a_loop_without_its_own_lease_always_works_and_stop_gives_leases_up(
    db: Database,
) -> None:
    clock = FixedClock(T0)
    leases = LeaseStore(db, clock)
    assert leases.acquire("watchdog", "someone-else", seconds=600)
    released: list[bool] = []
    free = loop(db, clock, "up-1", lambda: [], lease=False, on_stop=lambda: released.append(True))
    assert free.round().state == "working"
    free.stop()
    assert released == [True]
    assert leases.holder("watchdog") == "someone-else"

    held = loop(db, clock, "up-2", lambda: [])
    leases.release("watchdog", "someone-else")
    assert held.round().state == "working" and leases.holder("watchdog") == "up-2"
    held.stop()
    assert leases.holder("watchdog") is None


def test_a_database_outage_does_not_end_the_loop(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    database.upgrade()
    work_done: list[int] = []
    free = loop(database, clock, "up-1", lambda: work_done.append(1) or [], lease=False)
    (tmp_path / "ops.db").unlink()
    database.dispose()
    (tmp_path / "ops.db").mkdir()  # the file is gone and cannot be recreated
    result = free.round()
    assert result.state == "working" and work_done == [1]


def test_alike_rounds_are_counted_and_written_at_most_every_30_seconds(db: Database) -> None:
    clock = FixedClock(T0)
    said = iter(["nothing due"] * 5 + ["delivered alarm 7"])
    dispatch = loop(db, clock, "up-1", lambda: [Decision.skipped("*", next(said))], lease=False)
    records = LoopStore(db, clock)
    for _ in range(4):  # alike: the first is written, three wait
        dispatch.round()
        clock.advance(timedelta(seconds=5))
    [status] = records.statuses()
    assert status.rounds == 1 and records.decisions()[0].count == 1
    clock.advance(timedelta(seconds=15))
    dispatch.round()  # alike, but 35 s after the last write: written with the waiting ones
    assert records.statuses()[0].rounds == 5 and records.decisions()[0].count == 5
    dispatch.round()  # something new: written at once
    newest, repeated = records.decisions()
    assert (newest.reason, newest.count, repeated.count) == ("delivered alarm 7", 1, 5)


def test_a_stop_writes_the_rounds_still_waiting(db: Database) -> None:
    clock = FixedClock(T0)
    watchdog = loop(db, clock, "up-1", lambda: [Decision.skipped("d", "alive")], lease=False)
    for _ in range(3):
        watchdog.round()
    watchdog.stop()
    [decision] = LoopStore(db, clock).decisions()
    assert decision.count == 3 and LoopStore(db, clock).statuses()[0].rounds == 3
