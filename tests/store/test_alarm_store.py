"""Alarms and deliveries on SQLite and PostgreSQL: one unresolved alarm per problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lightkeeper.clock import FixedClock
from lightkeeper.errors import AlarmNotFound, AlarmStateRefused
from lightkeeper.store import Database
from lightkeeper.store.alarms import AlarmStore

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
SINKS = {"log": {"kind": "log"}, "hook": {"kind": "webhook", "url": "http://127.0.0.1:9/h"}}


def raise_(store: AlarmStore, key: str = "drift:deployment:d", **changes: Any) -> Any:
    values: dict[str, Any] = {
        "rule": "drift",
        "when": "drift",
        "severity": "warning",
        "title": "Drift on d",
        "model": "m",
        "version": 1,
        "deployment": "d",
        "owner": {"team": "ops"},
        "runbook": None,
        "evidence": {"summary": "x"},
        "sinks": SINKS,
    }
    values.update(changes)
    return store.raise_(key, **values)


def test_one_unresolved_alarm_per_problem_with_occurrences(db: Database) -> None:
    clock = FixedClock(T0)
    store = AlarmStore(db, clock)
    first = raise_(store)
    clock.advance(timedelta(minutes=5))
    second = raise_(store, evidence={"summary": "y"})
    assert (first.outcome, second.outcome) == ("opened", "counted")
    alarm = second.alarm
    assert alarm.id == first.alarm.id and alarm.occurrences == 2
    assert alarm.evidence == {"summary": "y"} and alarm.last_at == T0 + timedelta(minutes=5)
    assert [d.message for d in alarm.deliveries] == ["opened", "opened"]
    other = raise_(store, "drift:deployment:e", deployment="e")
    assert other.outcome == "opened" and other.alarm.id != alarm.id
    acked = store.acknowledge(alarm.id, by="olga")
    assert acked.state == "acknowledged" and raise_(store).outcome == "counted"
    done = store.resolve(alarm.id, by="olga", resolution="fixed")
    assert done.state == "resolved" and done.resolved_at == clock.now()
    assert [d.message for d in done.deliveries].count("resolved") == 2
    reopened = raise_(store)
    assert reopened.outcome == "opened" and reopened.alarm.id not in (alarm.id, other.alarm.id)
    assert {a.id for a in store.find(state="active")} == {other.alarm.id, reopened.alarm.id}
    assert [a.id for a in store.find(deployment="e")] == [other.alarm.id]
    with pytest.raises(AlarmStateRefused, match="already resolved"):
        store.resolve(alarm.id, by="olga", resolution="again")
    with pytest.raises(AlarmNotFound, match="no alarm 999"):
        store.get(999)


def test_deliveries_are_due_retried_and_recorded(db: Database) -> None:
    clock = FixedClock(T0)
    store = AlarmStore(db, clock)
    alarm = raise_(store).alarm
    log, hook = alarm.deliveries
    assert [d.id for d in store.due()] == [log.id, hook.id]
    store.delivered(log.id)
    store.failed(hook.id, error="POST answered 503", retry_at=T0 + timedelta(seconds=30))
    assert store.due() == [] and [d.id for d in store.due(everything=True)] == [hook.id]
    assert store.pending_count() == 1
    clock.advance(timedelta(seconds=31))
    [due] = store.due()
    assert (due.attempts, due.last_error) == (1, "POST answered 503")
    store.delivered(hook.id, {"key": "OPS-1"})
    assert store.pending_count() == 0 and store.receipt(alarm.id, "hook") == {"key": "OPS-1"}
    shown = store.get(alarm.id)
    assert shown.pending == 0 and [d.attempts for d in shown.deliveries] == [1, 2]


def test_a_claim_holds_a_delivery_until_released_or_lapsed(db: Database) -> None:
    clock = FixedClock(T0)
    store = AlarmStore(db, clock)
    log, hook = raise_(store).alarm.deliveries
    assert store.claim(hook)
    assert not store.claim(hook)  # one attempt at a time, even with --all
    assert [d.id for d in store.due(everything=True)] == [log.id]
    held = store.get(hook.alarm_id).deliveries[1]
    assert held.status == "pending" and held.claimed_until == T0 + timedelta(seconds=120)
    assert store.pending_count() == 2  # still pending while it is being attempted
    store.failed(hook.id, error="POST answered 503", retry_at=T0 + timedelta(seconds=30))
    assert not store.claim(hook)  # attempted since it was read: read it again
    [again] = store.due(everything=True)[1:]
    assert again.claimed_until is None and store.claim(again)
    clock.advance(timedelta(seconds=121))  # the claimer crashed mid-attempt: it lapses
    [lapsed] = store.due()[1:]
    assert store.claim(lapsed) and not store.claim(lapsed)
    store.delivered(hook.id)
    done = store.get(hook.alarm_id).deliveries[1]
    assert (done.status, done.claimed_until) == ("delivered", None)
    assert not store.claim(done)
