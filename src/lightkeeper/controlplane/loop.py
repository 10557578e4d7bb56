"""One loop abstraction for all background work: lease, round, record.

A round is a feature's method that does one pass of its work and returns what it
decided (:class:`~lightkeeper.decisions.Decision`). The loop adds what every loop needs
and no feature should write again:

- a lease, so among several control-plane processes one works and the others stand by
  (``lease=None`` for work that takes finer leases itself, such as the rollout
  controller's one per deployment);
- a record of every round (working, standby, failing) and its decisions in the ops
  database, so "why did nothing happen?" has an answer;
- errors that end the round, not the loop: logged once per distinct message, so an
  outage of the database gives one warning rather than one per second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lightkeeper.clock import Clock
from lightkeeper.decisions import Decision
from lightkeeper.errors import first_line
from lightkeeper.periodic import Periodic
from lightkeeper.store.leases import LeaseStore
from lightkeeper.store.loops import LoopStore

log = logging.getLogger(__name__)

Round = Callable[[], Sequence[Decision]]


@dataclass(frozen=True)
class RoundResult:
    """What one round of a loop did."""

    loop: str
    state: str  # working | standby | failing
    started_at: datetime
    seconds: float
    decisions: list[Decision] = field(default_factory=list)
    error: str | None = None


class Loop:
    """Run ``work`` every ``interval`` seconds in a daemon thread, leased and recorded.

    Args:
        name: the loop's name, shown by ``lightkeeper loops``; also its lease's name.
        work: one round of the work; returns its decisions.
        interval: seconds between rounds (the first runs at once).
        holder: who this process is (the lease holder and the record's process).
        leases: the lease store; with ``lease=False`` the loop always works.
        records: where rounds and decisions are recorded.
        lease_seconds: how long a taken lease lasts (renewed every round); default three
            intervals, at least a minute, so a slow round keeps it.
        standby: called on a round when another process holds the lease.
        on_stop: called once the thread has stopped (to give finer leases up).
    """

    def __init__(
        self,
        name: str,
        work: Round,
        *,
        interval: float,
        holder: str,
        leases: LeaseStore,
        records: LoopStore,
        clock: Clock,
        lease: bool = True,
        lease_seconds: float | None = None,
        standby: Callable[[], object] | None = None,
        on_stop: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.interval = interval
        self.holder = holder
        self._work = work
        self._leases = leases
        self._records = records
        self._clock = clock
        self._lease = lease
        self._lease_seconds = lease_seconds or max(3 * interval, 60.0)
        self._standby = standby
        self._on_stop = on_stop
        self._thread = Periodic(f"lk-{name}", interval, self.round, now=True)
        self._complaint: str | None = None  # the last error logged, to log each once

    def start(self) -> None:
        """Work in a background thread: at once, then every ``interval`` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop (a round under way finishes) and give the lease up for another process."""
        self._thread.stop()
        try:
            if self._lease:
                self._leases.release(self.name, self.holder)
            if self._on_stop is not None:
                self._on_stop()
        except Exception as exc:  # leases expire by themselves
            log.debug("%s: cannot give the leases up: %s", self.name, exc)

    def round(self) -> RoundResult:
        """One round now: take the lease, work (or stand by), record what happened."""
        started, clock = self._clock.now(), time.perf_counter()
        try:
            if self._lease and not self._leases.acquire(
                self.name, self.holder, seconds=self._lease_seconds
            ):
                if self._standby is not None:
                    self._standby()
                result = RoundResult(self.name, "standby", started, time.perf_counter() - clock)
            else:
                decisions = list(self._work())
                seconds = time.perf_counter() - clock
                result = RoundResult(self.name, "working", started, seconds, decisions)
        except Exception as exc:  # the next round tries again
            error = first_line(exc)
            self._complain(error, exc)
            seconds = time.perf_counter() - clock
            failed = [Decision.failed("*", error)]
            result = RoundResult(self.name, "failing", started, seconds, failed, error)
        self._record(result)
        return result

    def _record(self, result: RoundResult) -> None:
        try:
            self._records.record(
                self.name,
                self.holder,
                interval=self.interval,
                state=result.state,
                started_at=result.started_at,
                seconds=result.seconds,
                decisions=result.decisions,
                error=result.error,
            )
        except Exception as exc:  # the database is down: the round itself stands
            self._complain(f"cannot record a round: {first_line(exc)}", exc)
        else:
            if result.state != "failing":
                self._complaint = None

    def _complain(self, message: str, exc: Exception) -> None:
        if message != self._complaint:
            log.warning("%s: %s", self.name, message, exc_info=log.isEnabledFor(logging.DEBUG))
            self._complaint = message
