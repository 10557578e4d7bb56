"""The loops of ``lightkeeper up``, assembled from the features that do the work.

| loop (and lease) | every | one round |
|---|---|---|
| ``rollout`` | 1 s | judge each challenger: promote, roll back or wait |
| ``batch-cadence`` | 60 s | report batch deployments whose run is late |
| ``watchdog`` | 15 s | report deployments whose servers all went silent |
| ``monitors`` | 60 s | drift and performance checks whose window is due |
| ``alarm-dispatch`` | 5 s | deliver alarm messages that are due |
| ``log-compaction`` | 60 s | merge each hour's small prediction-log files into one |

Among several ``lightkeeper up`` processes on one PostgreSQL database, each loop runs in
the process that holds its lease; the others stand by and take over when it expires.
The rollout loop's lease also tells ``lightkeeper serve`` that a control plane judges
the canaries (see :func:`serve_rollout`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lightkeeper.alerts.dispatch import Dispatcher
from lightkeeper.batch.cadence import BatchWatch
from lightkeeper.clock import Clock
from lightkeeper.controlplane.loop import Loop
from lightkeeper.decisions import Decision
from lightkeeper.deploy.rollout import RolloutController
from lightkeeper.errors import InvalidInput
from lightkeeper.logstore.compact import Compactor
from lightkeeper.monitor.schedule import MonitorSchedule
from lightkeeper.monitor.watchdog import Watchdog
from lightkeeper.store.leases import LeaseStore
from lightkeeper.store.loops import LoopStore

log = logging.getLogger(__name__)

ROLLOUT = "rollout"


@dataclass(frozen=True)
class Intervals:
    """Seconds between rounds of each loop."""

    rollout: float = 1.0
    batch_cadence: float = 60.0
    watchdog: float = 15.0
    monitors: float = 60.0
    alarm_dispatch: float = 5.0
    log_compaction: float = 60.0


class ControlPlane:
    """Every background loop of one ``lightkeeper up`` process; start and stop them together.

    Args:
        holder: this process's name in leases and records.
        leases, records, clock: what every loop needs.
        rollout, batch_watch, watchdog, schedule, dispatcher, compactor: the features
            whose rounds the loops run.
        intervals: seconds between rounds.
    """

    def __init__(
        self,
        *,
        holder: str,
        leases: LeaseStore,
        records: LoopStore,
        clock: Clock,
        rollout: RolloutController,
        batch_watch: BatchWatch,
        watchdog: Watchdog,
        schedule: MonitorSchedule,
        dispatcher: Dispatcher,
        compactor: Compactor,
        intervals: Intervals | None = None,
    ) -> None:
        every = intervals or Intervals()

        def loop(
            name: str,
            work: Callable[[], Sequence[Decision]],
            interval: float,
            *,
            standby: Callable[[], object] | None = None,
            on_stop: Callable[[], object] | None = None,
        ) -> Loop:
            return Loop(
                name,
                work,
                interval=interval,
                holder=holder,
                leases=leases,
                records=records,
                clock=clock,
                # a round of checks may take minutes: keep the lease through it
                lease_seconds=max(10 * interval, 60.0),
                standby=standby,
                on_stop=on_stop,
            )

        self.holder = holder
        self.loops: list[Loop] = [
            loop(ROLLOUT, rollout.tick, every.rollout, on_stop=rollout.release_leases),
            loop("batch-cadence", batch_watch.tick, every.batch_cadence),
            loop("watchdog", watchdog.check, every.watchdog, standby=watchdog.forget),
            loop("monitors", schedule.run_due, every.monitors),
            loop("alarm-dispatch", dispatcher.round, every.alarm_dispatch),
            loop("log-compaction", compactor.round, every.log_compaction),
        ]

    def start(self) -> None:
        """Start every loop (each runs its first round at once)."""
        for loop in self.loops:
            loop.start()
        log.info("control plane %s: %d loops started", self.holder, len(self.loops))

    def stop(self) -> None:
        """Stop every loop, giving its leases up for another process."""
        for loop in reversed(self.loops):
            loop.stop()


def serve_rollout(
    rollout: RolloutController,
    *,
    mode: str,
    holder: str,
    leases: LeaseStore,
    records: LoopStore,
    clock: Clock,
    interval: float = 1.0,
) -> Loop | None:
    """The rollout loop of a ``lightkeeper serve`` process, by ``mode``.

    ``off``: none. ``on``: judge its deployment's challenger every round (the
    per-deployment lease still keeps two judges from acting at once). ``auto`` (the
    default): judge only while no control plane holds the ``rollout`` lease, so with
    ``lightkeeper up`` running the decisions are taken in one place.
    """
    if mode not in ("auto", "on", "off"):
        raise InvalidInput(f"{mode!r} is not a serve_rollout mode", hint="use auto, on or off")
    if mode == "off":
        return None

    def work() -> Sequence[Decision]:
        if mode == "auto":
            plane = leases.holder(ROLLOUT)
            if plane is not None:
                return [Decision.skipped(rollout.only or "*", f"control plane {plane} judges")]
        return rollout.tick()

    return Loop(
        f"{ROLLOUT}-serve",
        work,
        interval=interval,
        holder=holder,
        leases=leases,
        records=records,
        clock=clock,
        lease=False,
        on_stop=rollout.release_leases,
    )
