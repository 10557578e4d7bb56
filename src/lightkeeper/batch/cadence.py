"""The batch dead-man's switch: a run that should have finished and did not is an event.

A batch deployment's manifest says when its run must be done (``batch.cadence``: a cron
expression in UTC and a grace period). Each time the cron fires, a run that succeeded
since the previous firing is due; ``grace_minutes`` later, without one, the deployment
is late and a ``batch.late`` event is recorded, once per due time, for the alarm system.
A due time counts only when the deployment was released for its whole window. A run
that succeeds late counts for the window it finished in (like a run that succeeds
early), and a successful run of any partition counts: the switch watches that the job
runs, not which partition it wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lightkeeper.decisions import Decision
from lightkeeper.errors import first_line
from lightkeeper.events import BatchRunLate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lightkeeper.clock import Clock
    from lightkeeper.events import EventBus
    from lightkeeper.manifest import Cadence
    from lightkeeper.registry import Registry
    from lightkeeper.store import AuditStore
    from lightkeeper.store.batch import BatchRunStore
    from lightkeeper.store.deploy import DeployStore

log = logging.getLogger(__name__)

ACTOR = "batch-watch"


@dataclass(frozen=True)
class CadenceStatus:
    """Where one batch deployment stands against its cadence."""

    deployment: str
    cron: str
    grace_minutes: float
    due: datetime | None  # the newest due time whose grace has passed (None: none yet)
    next_due: datetime
    last_success: datetime | None
    late: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "deployment": self.deployment,
            "cron": self.cron,
            "grace_minutes": self.grace_minutes,
            "due": self.due.isoformat() if self.due else None,
            "next_due": self.next_due.isoformat(),
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "late": self.late,
        }


def cadence_status(
    deployment: str,
    cadence: Cadence,
    *,
    now: datetime,
    last_success: datetime | None,
    since: datetime,
) -> CadenceStatus:
    """Judge one deployment: is a run overdue at ``now``? (``since``: its first release.)"""
    from croniter import croniter

    grace = timedelta(minutes=cadence.grace_minutes)
    due: datetime | None = croniter(cadence.cron, now - grace).get_prev(datetime)
    assert due is not None
    window_start = croniter(cadence.cron, due).get_prev(datetime)
    if window_start < since:  # the deployment was not released for all of that window
        due = None
    late = due is not None and (last_success is None or last_success <= window_start)
    return CadenceStatus(
        deployment=deployment,
        cron=cadence.cron,
        grace_minutes=cadence.grace_minutes,
        due=due,
        next_due=croniter(cadence.cron, now).get_next(datetime),
        last_success=last_success,
        late=late,
    )


class BatchWatch:
    """Check every batch deployment's cadence; record ``batch.late`` once per due time.

    One round (:meth:`tick`) decides once per batch deployment; the control plane runs
    it on an interval, under a lease.
    """

    def __init__(
        self,
        *,
        deployments: DeployStore,
        batch_runs: BatchRunStore,
        audit: AuditStore,
        registry: Registry,
        bus: EventBus,
        clock: Clock,
    ) -> None:
        self.deployments = deployments
        self.runs = batch_runs
        self.audit = audit
        self.registry = registry
        self.bus = bus
        self.clock = clock

    def tick(self) -> list[Decision]:
        """One round: report each deployment newly late; one decision per batch deployment."""
        return [decision for _, decision in self._round()]

    def check(self) -> list[CadenceStatus]:
        """One round: report each deployment newly late; the statuses (``batch check``)."""
        return [status for status, _ in self._round() if status is not None]

    def statuses(self) -> list[CadenceStatus]:
        """The cadence status of every batch deployment that has one (nothing reported)."""
        return [status for _, status, _ in self._survey() if status is not None]

    def _survey(self) -> Iterator[tuple[str, CadenceStatus | None, str]]:
        """Each batch deployment with its status, or ``None`` and why it has none."""
        now = self.clock.now()
        for deployment in self.deployments.all():
            if deployment.kind != "batch":
                continue
            name = deployment.name
            history = self.deployments.history(name)
            if not history or history[0].champion is None:
                yield name, None, "no cadence to watch: not released yet"
                continue
            champion = history[0].champion
            manifest = self.registry.manifest(deployment.model, champion)
            cadence = manifest.batch.cadence if manifest else None
            if cadence is None:
                yield name, None, f"no cadence in the manifest of version {champion}"
                continue
            last = self.runs.last_succeeded(name)
            status = cadence_status(
                name,
                cadence,
                now=now,
                last_success=last.finished_at if last else None,
                since=history[-1].at,
            )
            yield name, status, ""

    def _round(self) -> list[tuple[CadenceStatus | None, Decision]]:
        found: list[tuple[CadenceStatus | None, Decision]] = []
        for name, status, why in self._survey():
            if status is None:
                found.append((None, Decision.skipped(name, why)))
            else:
                found.append((status, self._report(status)))
        return found

    def _report(self, status: CadenceStatus) -> Decision:
        """Record ``batch.late`` for a deployment newly late; what was decided."""
        name = status.deployment
        last = status.last_success.isoformat() if status.last_success else "never"
        if status.due is None:
            return Decision.skipped(
                name,
                "not due yet: released during the current window; next due "
                f"{status.next_due.isoformat()}",
            )
        due = status.due.isoformat()
        if not status.late:
            return Decision.skipped(name, f"on time, last run at {last}", key="on time")
        recorded = self.audit.list(kind=BatchRunLate.kind, subject=f"deployment:{name}", limit=20)
        if any(entry.payload.get("due") == due for entry in recorded):
            return Decision.skipped(name, f"late: already reported for the run due {due}")
        log.warning("%s: no successful batch run for the run due %s", name, due)
        try:
            self.bus.publish(
                BatchRunLate(
                    actor=ACTOR,
                    reason=f"no successful run since the one due before {due}",
                    deployment=name,
                    due=due,
                    cron=status.cron,
                    last_success=last,
                )
            )
        except Exception as exc:  # the next round tries again
            log.warning("%s: cannot record batch.late: %s", name, first_line(exc))
            return Decision.failed(name, f"late, but batch.late not recorded: {first_line(exc)}")
        return Decision.ran(name, f"late: reported (the run due {due}; last success {last})")
