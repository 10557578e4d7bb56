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

from lightkeeper.decisions import Decision
from lightkeeper.events import LifeSignalLate, LifeSignalResumed

if TYPE_CHECKING:
    from lightkeeper.clock import Clock
    from lightkeeper.events import EventBus
    from lightkeeper.store.signals import SignalStore

log = logging.getLogger(__name__)

WATCHED = ("serve", "stream")
ACTOR = "watchdog"


class Watchdog:
    """Check the life signals; publish what went late and what resumed."""

    def __init__(self, *, signals: SignalStore, bus: EventBus, clock: Clock) -> None:
        self.signals = signals
        self.bus = bus
        self.clock = clock
        self.late: set[tuple[str, str]] = set()  # (kind, deployment) reported late

    def forget(self) -> None:
        """Forget what was reported: another process watches, its reports are the ones
        to trust (and this one reports afresh if it takes over)."""
        self.late.clear()

    def check(self) -> list[Decision]:
        """Publish what went silent and what came back; one decision per watched
        deployment and kind of instance."""
        now = self.clock.now()
        groups: dict[tuple[str, str], list[tuple[str, bool, str]]] = {}
        for signal in self.signals.all():
            if signal.kind in WATCHED:
                groups.setdefault((signal.kind, signal.subject), []).append(
                    (signal.instance_id, signal.alive(now), signal.last_seen.isoformat())
                )
        decisions = []
        for (kind, deployment), instances in sorted(groups.items()):
            silent = not any(alive for _, alive, _ in instances)
            last_seen = max(seen for _, _, seen in instances)
            key = (kind, deployment)
            if silent and key not in self.late:
                log.warning("%s %s is silent since %s", kind, deployment, last_seen)
                self.bus.publish(
                    LifeSignalLate(
                        actor=ACTOR,
                        deployment=deployment,
                        instance_kind=kind,
                        instances=[i for i, _, _ in instances],
                        last_seen=last_seen,
                    )
                )
                self.late.add(key)
                reason = f"reported late: every {kind} instance silent since {last_seen}"
                decisions.append(Decision.ran(deployment, reason))
            elif not silent and key in self.late:
                self.bus.publish(
                    LifeSignalResumed(actor=ACTOR, deployment=deployment, instance_kind=kind)
                )
                self.late.discard(key)
                decisions.append(Decision.ran(deployment, f"resumed: a {kind} instance is heard"))
            elif silent:
                decisions.append(
                    Decision.skipped(
                        deployment,
                        f"{kind} silent since {last_seen}, reported",
                        key=f"{kind} silent, reported",
                    )
                )
            else:
                decisions.append(
                    Decision.skipped(
                        deployment, f"{kind} alive, last seen {last_seen}", key=f"{kind} alive"
                    )
                )
        return decisions
