"""Drift and performance checks on their schedule: each deployment's ``monitoring.every``.

Windows end on multiples of ``every`` (UTC), so a check is never run twice for the same
window, whichever control-plane process runs it, and a restart catches up with the
window it missed rather than inventing a new one. The control plane calls
:meth:`MonitorSchedule.run_due` every round and records its decisions.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lightkeeper.auth import Principal
from lightkeeper.clock import parse_duration
from lightkeeper.decisions import Decision
from lightkeeper.errors import LightkeeperError, first_line

if TYPE_CHECKING:
    from lightkeeper.clock import Clock
    from lightkeeper.monitor.monitors import DriftMonitor
    from lightkeeper.monitor.performance import PerformanceMonitor
    from lightkeeper.registry import Registry
    from lightkeeper.store.deploy import Deployment, DeployStore
    from lightkeeper.store.monitors import MonitorStore

log = logging.getLogger(__name__)

SYSTEM = Principal("lightkeeper", "admin")  # the actor of scheduled checks
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_end(now: datetime, every: str) -> datetime:
    """The latest multiple of ``every`` since the epoch at or before ``now``."""
    length = parse_duration(every)
    periods = (now - _EPOCH) // length
    return _EPOCH + periods * length


class MonitorSchedule:
    """Run each released deployment's drift (and performance) check when its window is due."""

    def __init__(
        self,
        *,
        deployments: DeployStore,
        registry: Registry,
        monitors: MonitorStore,
        drift: DriftMonitor,
        performance: PerformanceMonitor,
        clock: Clock,
    ) -> None:
        self.deployments = deployments
        self.registry = registry
        self.monitors = monitors
        self.drift = drift
        self.performance = performance
        self.clock = clock

    def run_due(self) -> list[Decision]:
        """Run every drift (and, for models with a target, performance) check that is
        due now; one failing deployment or check stops no other."""
        now, decisions = self.clock.now(), []
        for deployment in self.deployments.all():
            decisions.extend(self._due(deployment, now))
        return decisions

    def _due(self, deployment: Deployment, now: datetime) -> list[Decision]:
        """The decisions about one deployment's checks."""
        name = deployment.name
        release = self.deployments.current(name)
        if release is None or release.champion is None:
            return [Decision.skipped(name, "no release yet")]
        try:
            manifest = self.registry.manifest(deployment.model, release.champion)
        except LightkeeperError as exc:
            log.warning("checks of %s skipped: %s", name, exc)
            return [Decision.failed(name, first_line(exc))]
        if manifest is None:
            return [Decision.skipped(name, f"no manifest with version {release.champion}")]
        monitoring = manifest.monitoring
        end = period_end(now, monitoring.every)
        start = end - parse_duration(monitoring.window)
        span = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
        checks: dict[str, DriftMonitor | PerformanceMonitor] = {"drift": self.drift}
        if manifest.target is not None:
            checks["performance"] = self.performance
        decisions = []
        for kind, monitor in checks.items():
            recent = self.monitors.list(name, kind=kind, limit=50)
            if any(r.window_start == start and r.window_end == end for r in recent):
                decisions.append(Decision.skipped(name, f"{kind} window {span} already checked"))
                continue
            try:
                result = monitor.run(name, end=end, by=SYSTEM)
            except LightkeeperError as exc:
                log.warning("%s check of %s skipped: %s", kind, name, exc)
                decisions.append(Decision.failed(name, f"{kind}: {first_line(exc)}"))
                continue
            decisions.append(Decision.ran(name, f"{kind} window {span}: {result.status}"))
        return decisions
