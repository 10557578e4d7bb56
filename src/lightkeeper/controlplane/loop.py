"""One loop abstraction for all background work: lease, round, record.

A round is a feature's method that does one pass of its work and returns what it
decided (:class:`~lightkeeper.decisions.Decision`). The loop adds what every loop needs
and no feature should write again:

- a lease, so among several control-plane processes one works and the others stand by
  (``lease=None`` for work that takes finer leases itself, such as the rollout
  controller's one per deployment);
- a record of every round (working, standby, failing) and its decisions in the ops
  database, so "why did nothing happen?" has an answer; rounds that decide what the
  last recorded one did are counted and written at most every 30 seconds;
- errors that end the round, not the loop: logged once per distinct message, so an
  outage of the database gives one warning rather than one per second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lightkeeper.clock import Clock
from lightkeeper.decisions import Decision
from lightkeeper.errors import first_line
from lightkeeper.periodic import Periodic
from lightkeeper.store.leases import LeaseStore
from lightkeeper.store.loops import LoopStore

log = logging.getLogger(__name__)

Round = Callable[[], Sequence[Decision]]
Alike = tuple[str, tuple[tuple[str, str, str], ...]]

#: A round that decides what the last recorded one did is recorded at least this often.
RECORD_EVERY = timedelta(seconds=30)


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
        self._written: tuple[Alike, RoundResult] | None = None  # the last round written
        self._unwritten = 0  # rounds since then that decided alike

    def start(self) -> None:
        """Work in a background thread: at once, then every ``interval`` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop (a round under way finishes) and give the lease up for another process."""
        self._thread.stop()
        if self._written is not None and self._unwritten:
            self._write(self._written[1], rounds=self._unwritten)
            self._unwritten = 0
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
        """Write the round down, unless it decided what the last written one did and that
        was less than :data:`RECORD_EVERY` ago: such rounds are counted and written with
        the next record, so a loop that has nothing new to say (every second, in every
        serving process) does not write to the ops database every round."""
        alike = _alike(result)
        last = self._written
        if (
            last is not None
            and last[0] == alike
            and result.started_at - last[1].started_at < RECORD_EVERY
        ):
            self._unwritten += 1
            return
        if last is not None and self._unwritten:  # the rounds like the last one, first
            self._write(last[1], rounds=self._unwritten)
        if self._write(result, rounds=1):
            self._written, self._unwritten = (alike, result), 0

    def _write(self, result: RoundResult, *, rounds: int) -> bool:
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
                rounds=rounds,
            )
        except Exception as exc:  # the database is down: the round itself stands
            self._complain(f"cannot record a round: {first_line(exc)}", exc)
            return False
        if result.state != "failing":
            self._complaint = None
        return True

    def _complain(self, message: str, exc: Exception) -> None:
        if message != self._complaint:
            log.warning("%s: %s", self.name, message, exc_info=log.isEnabledFor(logging.DEBUG))
            self._complaint = message


def _alike(result: RoundResult) -> Alike:
    """What two rounds must share to count as alike: state, and each decision's subject,
    outcome and key (a canary's changing "wait: observing 12/200" is alike)."""
    return result.state, tuple((d.subject, d.outcome, d.same_as) for d in result.decisions)
