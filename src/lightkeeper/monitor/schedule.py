"""Drift and performance checks on their schedule: each deployment's
``monitoring.every``, run by ``lightkeeper up``.

Windows end on multiples of ``every`` (UTC), so a check is never run twice for the same
window, whichever control-plane process runs it, and a restart catches up with the
window it missed rather than inventing a new one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lightkeeper.auth import Principal
from lightkeeper.background import LeasedLoop
from lightkeeper.clock import parse_duration
from lightkeeper.errors import LightkeeperError

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper
    from lightkeeper.store.monitors import MonitorResult

log = logging.getLogger(__name__)

SYSTEM = Principal("lightkeeper", "admin")  # the actor of scheduled checks
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_end(now: datetime, every: str) -> datetime:
    """The latest multiple of ``every`` since the epoch at or before ``now``."""
    length = parse_duration(every)
    periods = (now - _EPOCH) // length
    return _EPOCH + periods * length


class MonitorSchedule(LeasedLoop):
    """Every ``interval`` seconds, check each released deployment whose window is due."""

    lease = "monitors"
    lease_intervals = 10.0  # a round of checks may take minutes

    def __init__(
        self, lk: Lightkeeper, *, holder: str | None = None, interval: float = 60.0
    ) -> None:
        super().__init__(lk, holder=holder, interval=interval)

    def work(self) -> list[MonitorResult]:
        """Run the due checks."""
        return self.run_due()

    def run_due(self) -> list[MonitorResult]:
        """Run every drift (and, for models with a target, performance) check that is
        due now; one failing deployment or check stops no other."""
        from lightkeeper.manifest import parse_manifest
        from lightkeeper.monitor.monitors import DriftMonitor
        from lightkeeper.monitor.performance import PerformanceMonitor

        lk, now, done = self.lk, self.lk.clock.now(), []
        for deployment in lk.deploy_store.all():
            release = lk.releases.current(deployment.name)
            if release is None or release.champion is None:
                continue
            try:
                text = lk.registry.manifest_text(deployment.model, release.champion)
                manifest = parse_manifest(text) if text else None
            except LightkeeperError as exc:
                log.warning("checks of %s skipped: %s", deployment.name, exc)
                continue
            if manifest is None:
                continue
            monitoring = manifest.monitoring
            end = period_end(now, monitoring.every)
            start = end - parse_duration(monitoring.window)
            checks: dict[str, DriftMonitor | PerformanceMonitor] = {"drift": DriftMonitor(lk)}
            if manifest.target is not None:
                checks["performance"] = PerformanceMonitor(lk)
            for kind, monitor in checks.items():
                recent = lk.monitor_store.list(deployment.name, kind=kind, limit=50)
                if any(r.window_start == start and r.window_end == end for r in recent):
                    continue
                try:
                    done.append(monitor.run(deployment.name, end=end, by=SYSTEM))
                except LightkeeperError as exc:
                    log.warning("%s check of %s skipped: %s", kind, deployment.name, exc)
        return done
