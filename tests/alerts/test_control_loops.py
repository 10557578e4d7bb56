"""The control plane's loops: the watchdog turns a silent server into an alarm and back,
and the dispatcher retries what is due."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from alerts_workspace import OPS
from monitor_workspace import log_rows, shifted

from lightkeeper import FixedClock, Lightkeeper
from lightkeeper.alerts.dispatch import DispatchLoop
from lightkeeper.monitor.watchdog import Watchdog
from lightkeeper.store.signals import LifeSignal
from support import Recorder

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def beat(lk: Lightkeeper, instance: str, at: datetime) -> None:
    lk.signal_store.beat(
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
    watchdog = Watchdog(lk)
    beat(lk, "serve-a", T0)
    assert watchdog.check() == []
    clock.advance(timedelta(seconds=16))  # past three beats of five seconds
    [late] = watchdog.check()
    assert late.deployment == "credit-online" and late.instances == ["serve-a"]
    assert watchdog.check() == []  # said once
    [alarm] = lk.alarms()
    assert (alarm.rule, alarm.severity) == ("silent", "critical")
    assert alarm.title == "credit-online: every serve instance is silent"
    assert json.loads(hooks.bodies("/hook")[0])["alarm"]["title"] == alarm.title
    beat(lk, "serve-b", clock.now())  # a new instance answers for the deployment
    assert watchdog.check() == []
    assert lk.alarms() == [] and lk.alarm_store.get(alarm.id).resolution is not None
    kinds = [e.kind for e in lk.audit_entries() if e.kind.startswith("signal.")]
    assert sorted(kinds) == ["signal.late", "signal.resumed"]


def test_the_dispatch_loop_delivers_what_is_due_after_the_backoff(
    lk: Lightkeeper, hooks: Recorder
) -> None:
    clock = FixedClock(T0)
    lk.clock = clock
    hooks.fail_with = 502
    log_rows(lk, shifted(1200, 3), at=T0 - timedelta(minutes=30))
    lk.monitor_drift("credit-online", window="1h", end=T0, by=OPS)
    [alarm] = lk.alarms()
    assert alarm.pending == 3
    hooks.fail_with = None
    loop = DispatchLoop(lk, holder="control-test")
    loop._tick()
    assert lk.alarm_store.get(alarm.id).pending == 3  # backing off: not due yet
    clock.advance(timedelta(seconds=31))
    loop._tick()
    assert lk.alarm_store.get(alarm.id).pending == 0
