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

from lightkeeper.background import LeasedLoop
from lightkeeper.errors import first_line
from lightkeeper.events import BatchRunLate

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper
    from lightkeeper.manifest import Cadence

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


class BatchWatch(LeasedLoop):
    """Check every batch deployment's cadence; record ``batch.late`` once per due time."""

    lease = "batch-watch"

    def __init__(
        self, lk: Lightkeeper, *, holder: str | None = None, interval: float = 60.0
    ) -> None:
        super().__init__(lk, holder=holder, interval=interval)

    def work(self) -> list[CadenceStatus]:
        """One round of checks."""
        return self.check()

    def statuses(self) -> list[CadenceStatus]:
        """The cadence status of every batch deployment that has one."""
        from lightkeeper.manifest import parse_manifest

        lk = self.lk
        now = lk.clock.now()
        found = []
        for deployment in lk.deploy_store.all():
            if deployment.kind != "batch":
                continue
            history = lk.deploy_store.history(deployment.name)
            if not history or history[0].champion is None:
                continue
            text = lk.registry.manifest_text(deployment.model, history[0].champion)
            cadence = parse_manifest(text).batch.cadence if text else None
            if cadence is None:
                continue
            last = lk.batch_runs.last_succeeded(deployment.name)
            found.append(
                cadence_status(
                    deployment.name,
                    cadence,
                    now=now,
                    last_success=last.finished_at if last else None,
                    since=history[-1].at,
                )
            )
        return found

    def check(self) -> list[CadenceStatus]:
        """One pass: record an event for each deployment that is newly late."""
        statuses = self.statuses()
        for status in statuses:
            if not status.late or status.due is None:
                continue
            subject = f"deployment:{status.deployment}"
            due = status.due.isoformat()
            recorded = self.lk.audit_entries(kind=BatchRunLate.kind, subject=subject, limit=20)
            if any(entry.payload.get("due") == due for entry in recorded):
                continue
            last = status.last_success.isoformat() if status.last_success else "never"
            log.warning("%s: no successful batch run for the run due %s", status.deployment, due)
            try:
                self.lk.bus.publish(
                    BatchRunLate(
                        actor=ACTOR,
                        reason=f"no successful run since the one due before {due}",
                        deployment=status.deployment,
                        due=due,
                        cron=status.cron,
                        last_success=last,
                    )
                )
            except Exception as exc:  # the next pass tries again
                log.warning("%s: cannot record batch.late: %s", status.deployment, first_line(exc))
        return statuses
