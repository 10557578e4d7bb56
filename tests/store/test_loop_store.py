"""The record of the control plane's loops, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lightkeeper.clock import FixedClock
from lightkeeper.decisions import Decision
from lightkeeper.store import Database
from lightkeeper.store.loops import RETENTION, LoopStore

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_repeated_decisions_are_counted_on_one_row_and_changes_add_rows(db: Database) -> None:
    clock = FixedClock(T0)
    store = LoopStore(db, clock)
    nothing = Decision.skipped("*", "nothing due")
    for _ in range(3):
        store.record(
            "dispatch",
            "up-1",
            interval=5,
            state="working",
            started_at=clock.now(),
            seconds=0.01,
            decisions=[nothing],
        )
        clock.advance(timedelta(seconds=5))
    store.record(
        "dispatch",
        "up-1",
        interval=5,
        state="working",
        started_at=clock.now(),
        seconds=0.02,
        decisions=[Decision.ran("*", "delivered alarm 7 to ops-chat")],
    )
    store.record(
        "dispatch",
        "up-1",
        interval=5,
        state="working",
        started_at=clock.now(),
        seconds=0.01,
        decisions=[nothing],
    )

    newest, delivered, repeated = store.decisions(loop="dispatch")
    assert (repeated.reason, repeated.count) == ("nothing due", 3)
    assert repeated.last_at - repeated.first_at == timedelta(seconds=10)
    assert (delivered.reason, delivered.outcome, delivered.count) == (
        "delivered alarm 7 to ops-chat",
        "ran",
        1,
    )
    assert (newest.reason, newest.count) == ("nothing due", 1)  # after a change: a new row
    [status] = store.statuses()
    assert (status.loop, status.holder, status.rounds, status.state) == (
        "dispatch",
        "up-1",
        5,
        "working",
    )
    assert store.decisions(outcome="ran") == [delivered]
    assert store.decisions(subject="*", limit=2) == [newest, delivered]
    assert store.decisions(subject="alarm 7") == []


def test_each_process_has_its_status_and_a_quiet_one_shows_as_stopped(db: Database) -> None:
    clock = FixedClock(T0)
    store = LoopStore(db, clock)
    store.record("watchdog", "up-1", interval=15, state="working", started_at=T0, seconds=0.1)
    store.record("watchdog", "up-2", interval=15, state="standby", started_at=T0, seconds=0.0)
    store.record(
        "watchdog",
        "up-2",
        interval=15,
        state="failing",
        started_at=T0,
        seconds=0.0,
        error="database is down",
    )
    statuses = {s.holder: s for s in store.statuses("watchdog")}
    assert statuses["up-2"].to_dict(T0)["last_error"] == "database is down"
    assert statuses["up-2"].rounds == 2
    later = T0 + timedelta(minutes=5)
    assert statuses["up-1"].to_dict(later)["state"] == "stopped"
    assert statuses["up-1"].to_dict(T0)["state"] == "working"


def test_old_decisions_are_pruned(db: Database) -> None:
    clock = FixedClock(T0)
    old = LoopStore(db, clock)
    old.record(
        "monitors",
        "up-1",
        interval=60,
        state="working",
        started_at=T0,
        seconds=1,
        decisions=[Decision.ran("credit-online", "drift checked")],
    )
    clock.advance(RETENTION + timedelta(hours=2))
    fresh = LoopStore(db, clock)  # a new process prunes on its first round
    fresh.record(
        "monitors",
        "up-1",
        interval=60,
        state="working",
        started_at=clock.now(),
        seconds=1,
        decisions=[Decision.skipped("credit-online", "window checked")],
    )
    [kept] = fresh.decisions()
    assert kept.reason == "window checked"


def test_a_changing_reason_with_a_stable_key_is_counted_and_shows_the_newest(
    db: Database,
) -> None:
    clock = FixedClock(T0)
    store = LoopStore(db, clock)
    for seen in range(3):
        waiting = Decision.skipped("credit-online", f"wait: observing {seen}/200", key="wait")
        store.record(
            "rollout",
            "up-1",
            interval=1,
            state="working",
            started_at=clock.now(),
            seconds=0.01,
            decisions=[waiting],
        )
        clock.advance(timedelta(seconds=1))
    [row] = store.decisions(loop="rollout")
    assert (row.count, row.reason) == (3, "wait: observing 2/200")


def test_repeats_from_other_processes_are_counted_apart(db: Database) -> None:
    clock = FixedClock(T0)
    store = LoopStore(db, clock)
    nothing = Decision.skipped("*", "control plane up-1 judges")
    for _ in range(3):  # two serve workers taking turns
        for holder in ("serve-a", "serve-b"):
            store.record(
                "rollout-serve",
                holder,
                interval=1,
                state="working",
                started_at=clock.now(),
                seconds=0.0,
                decisions=[nothing],
            )
    rows = store.decisions(loop="rollout-serve")
    assert sorted((r.holder, r.count) for r in rows) == [("serve-a", 3), ("serve-b", 3)]


def test_statuses_of_processes_gone_for_the_retention_are_pruned(db: Database) -> None:
    clock = FixedClock(T0)
    LoopStore(db, clock).record(
        "watchdog", "up-old", interval=15, state="working", started_at=T0, seconds=0.1
    )
    clock.advance(RETENTION + timedelta(hours=2))
    LoopStore(db, clock).record(
        "watchdog", "up-new", interval=15, state="working", started_at=clock.now(), seconds=0.1
    )
    assert [s.holder for s in LoopStore(db, clock).statuses()] == ["up-new"]


def test_a_long_round_is_not_taken_for_a_stopped_process(db: Database) -> None:
    clock = FixedClock(T0)
    store = LoopStore(db, clock)
    store.record("monitors", "up-1", interval=60, state="working", started_at=T0, seconds=150)
    [status] = store.statuses()
    ended = T0 + timedelta(seconds=150)
    assert status.to_dict(ended + timedelta(seconds=40))["state"] == "working"
    assert status.to_dict(ended + timedelta(minutes=11))["state"] == "stopped"
