"""The watchdog: every long-running server and consumer promised a heartbeat cadence; a
deployment whose instances have all gone silent is late, and said so once.

A clean stop signs off (its life signal is removed), so only a silent death counts. A
deployment is late when it has instances on record and none was heard from within three
promised beats; it resumes when one is heard again. Batch runs are watched by their
cadence instead (:mod:`lightkeeper.batch.cadence`). The watchdog remembers what it
reported in memory: after a restart of ``lightkeeper up`` a still-silent deployment is
reported once more, and the alarm counts an occurrence rather than paging again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lightkeeper.background import LeasedLoop
from lightkeeper.events import LifeSignalLate, LifeSignalResumed

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper

log = logging.getLogger(__name__)

WATCHED = ("serve", "stream")
ACTOR = "watchdog"


class Watchdog(LeasedLoop):
    """Check the life signals every ``interval`` seconds; publish late and resumed."""

    lease = "watchdog"

    def __init__(
        self, lk: Lightkeeper, *, holder: str | None = None, interval: float = 15.0
    ) -> None:
        super().__init__(lk, holder=holder, interval=interval)
        self.late: set[tuple[str, str]] = set()  # (kind, deployment) reported late

    def work(self) -> list[LifeSignalLate]:
        """Publish what went silent and what came back."""
        return self.check()

    def standby(self) -> None:
        self.late.clear()  # another process watches; its reports are the ones to trust

    def check(self) -> list[LifeSignalLate]:
        """Publish what went silent and what came back; returns the late ones."""
        now = self.lk.clock.now()
        groups: dict[tuple[str, str], list[tuple[str, bool, str]]] = {}
        for signal in self.lk.signal_store.all():
            if signal.kind in WATCHED:
                groups.setdefault((signal.kind, signal.subject), []).append(
                    (signal.instance_id, signal.alive(now), signal.last_seen.isoformat())
                )
        reported = []
        for (kind, deployment), instances in sorted(groups.items()):
            silent = not any(alive for _, alive, _ in instances)
            key = (kind, deployment)
            if silent and key not in self.late:
                event = LifeSignalLate(
                    actor=ACTOR,
                    deployment=deployment,
                    instance_kind=kind,
                    instances=[i for i, _, _ in instances],
                    last_seen=max(seen for _, _, seen in instances),
                )
                log.warning("%s %s is silent since %s", kind, deployment, event.last_seen)
                self.lk.bus.publish(event)
                self.late.add(key)
                reported.append(event)
            elif not silent and key in self.late:
                self.lk.bus.publish(
                    LifeSignalResumed(actor=ACTOR, deployment=deployment, instance_kind=kind)
                )
                self.late.discard(key)
        return reported
