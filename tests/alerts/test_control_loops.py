"""The control plane's rounds: the watchdog turns a silent server into an alarm and back,
and the dispatcher retries what is due."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from lightkeeper import FixedClock, Lightkeeper
from lightkeeper.decisions import Decision
from lightkeeper.store.signals import LifeSignal
from lightkeeper.testing import OPERATOR, Recorder
from support import log_rows, shifted

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def beat(lk: Lightkeeper, instance: str, at: datetime) -> None:
    lk.stores.signals.beat(
        LifeSignal(
            instance_id=instance,
            kind="serve",
            subject="credit-online",
            host="h",
            pid=1,
            started_at=T0,
            last_seen=at,
            cadence_seconds=5.0,
            payload={},
        )
    )


def test_a_silent_server_opens_an_alarm_once_and_its_return_resolves_it(
    lk: Lightkeeper, hooks: Recorder
) -> None:
    clock = FixedClock(T0)
    lk.clock = clock
    watchdog = lk.watchdog
    beat(lk, "serve-a", T0)
    assert watchdog.check() == [
        Decision.skipped(
            "credit-online",
            "serve alive, last seen 2026-11-27T06:00:00+00:00",
            key="serve alive",
        )
    ]
    clock.advance(timedelta(seconds=16))  # past three beats of five seconds
    silent = "every serve instance silent since 2026-11-27T06:00:00+00:00"
    assert watchdog.check() == [Decision.ran("credit-online", f"reported late: {silent}")]
    [late] = lk.audit_entries(kind="signal.late")
    assert (late.payload["deployment"], late.payload["instances"]) == ("credit-online", ["serve-a"])
    [again] = watchdog.check()  # said once
    assert again.outcome == "skipped"
    [alarm] = lk.alarms.find()
    assert (alarm.rule, alarm.severity) == ("silent", "critical")
    assert alarm.title == "credit-online: every serve instance is silent"
    assert json.loads(hooks.bodies("/hook")[0])["alarm"]["title"] == alarm.title
    beat(lk, "serve-b", clock.now())  # a new instance answers for the deployment
    [back] = watchdog.check()
    assert back == Decision.ran("credit-online", "resumed: a serve instance is heard")
    assert lk.alarms.find() == [] and lk.stores.alarms.get(alarm.id).resolution is not None
    kinds = [e.kind for e in lk.audit_entries() if e.kind.startswith("signal.")]
    assert sorted(kinds) == ["signal.late", "signal.resumed"]


def test_the_dispatch_loop_delivers_what_is_due_after_the_backoff(
    lk: Lightkeeper, hooks: Recorder
) -> None:
    clock = FixedClock(T0)
    lk.clock = clock
    hooks.fail_with = 502
    log_rows(lk, shifted(1200, 3), at=T0 - timedelta(minutes=30))
    lk.drift.run("credit-online", window="1h", end=T0, by=OPERATOR)
    [alarm] = lk.alarms.find()
    assert alarm.pending == 3
    hooks.fail_with = None
    assert lk.dispatcher.round() == [Decision.skipped("alarm deliveries", "nothing due")]
    assert lk.stores.alarms.get(alarm.id).pending == 3  # backing off: not due yet
    clock.advance(timedelta(seconds=31))
    delivered = lk.dispatcher.round()
    assert [d.outcome for d in delivered] == ["ran"] * 3
    assert delivered[0].reason.startswith(f"delivered alarm {alarm.id} to ")
    assert lk.stores.alarms.get(alarm.id).pending == 0
