"""Alarm rules: turn events into alarms, one open alarm per problem, resolved when it clears.

The rules live in the model's manifest (``alarms.rules``): for an event about a
deployment, the manifest of the version it serves as champion; for a gate event, the
manifest of the version under test. A rule that fires on a problem that already has an
unresolved alarm counts one more occurrence instead of opening another (the dedup key
is the rule's name and the deployment or model). When the condition clears (the next
drift check is clean, a batch run succeeds, a gate passes) the alarm resolves itself.

Rules by ``when``, what fires them and what clears them:

* ``drift``: a ``drift.checked`` with drift (the share of drifted features at or above
  ``threshold``; without one, any drifted feature or output); cleared by a clean check.
* ``performance``: a ``performance.checked`` below the level (the rule's ``threshold``,
  else ``monitoring.min`` or the gate's); cleared by a check at or above it.
* ``batch_run_failed``: ``batch.failed``; cleared by a successful run.
* ``life_signal_late``: ``batch.late`` (cleared by a successful run) and ``signal.late``
  from the watchdog (cleared by ``signal.resumed``).
* ``canary_rolled_back``: ``rollout.decided`` with a rollback; resolved by hand.
* ``gate_failed``: ``gate.failed``; cleared by ``gate.passed`` of the same model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lightkeeper.errors import AlarmStateRefused, DeploymentNotFound
from lightkeeper.events import (
    AlarmOpened,
    AlarmResolved,
    BatchRunFailed,
    BatchRunFinished,
    BatchRunLate,
    DriftChecked,
    Event,
    EventBus,
    GateFailed,
    GatePassed,
    LifeSignalLate,
    LifeSignalResumed,
    PerformanceChecked,
    RolloutDecided,
)

if TYPE_CHECKING:
    from lightkeeper.manifest import AlarmRule, Manifest
    from lightkeeper.registry import Registry
    from lightkeeper.store.alarms import AlarmStore, Delivery
    from lightkeeper.store.deploy import DeployStore

log = logging.getLogger(__name__)

SYSTEM = "lightkeeper"  # the actor of automatic resolutions


@dataclass(frozen=True)
class Finding:
    """What an event says about one kind of problem: it is there (``firing``) or gone."""

    when: str
    firing: bool
    scope: str  # deployment:NAME or model:NAME
    title: str
    summary: str
    model: str
    version: int | None
    deployment: str | None
    value: float | None = None  # compared with the rule's threshold when it has one
    lower_is_better: bool = False  # a loss (RMSE, MAE): past the threshold means above it


class AlarmEngine:
    """Subscribes to the bus; opens, counts and resolves alarms from the manifest's rules.

    ``deliver`` sends an alarm's new messages at once (the dispatcher's ``deliver``);
    what fails stays pending for the dispatcher's next round.
    """

    def __init__(
        self,
        *,
        alarms: AlarmStore,
        deployments: DeployStore,
        registry: Registry,
        bus: EventBus,
        deliver: Callable[[list[Delivery]], object],
    ) -> None:
        self.alarms = alarms
        self.deployments = deployments
        self.registry = registry
        self.bus = bus
        self.deliver = deliver

    def subscribe(self) -> None:
        """Listen on the bus to every event a rule can fire or clear on."""
        bus = self.bus
        for event_type in (
            DriftChecked,
            BatchRunLate,
            BatchRunFailed,
            BatchRunFinished,
            RolloutDecided,
            GateFailed,
            GatePassed,
            LifeSignalLate,
            LifeSignalResumed,
            PerformanceChecked,
        ):
            bus.subscribe(event_type, self.on_event)

    def on_event(self, event: Event) -> None:
        """Judge an event against the rules of the manifest it concerns."""
        for finding in _findings(event, self._served):
            manifest = self._manifest(finding.model, finding.version)
            if manifest is None:
                continue
            for rule in manifest.alarms.rules:
                if rule.when == finding.when:
                    try:
                        self._apply(rule, finding, manifest, event)
                    except Exception:  # the next rule still gets its turn
                        log.exception("alarm rule %s failed on %s", rule.name, event.kind)

    def _apply(self, rule: AlarmRule, finding: Finding, manifest: Manifest, event: Event) -> None:
        key = f"{rule.name}:{finding.scope}"
        firing = finding.firing
        if rule.threshold is not None and finding.value is not None:
            # a performance rule's own level replaces the manifest's; a drift rule's
            # share applies on top of the check's verdict
            beyond = _beyond(rule, finding)
            firing = beyond if rule.when == "performance" else firing and beyond
        store = self.alarms
        if not firing:
            current = store.unresolved(key)
            if current is not None:
                try:
                    done = store.resolve(
                        current.id, by=SYSTEM, resolution=f"auto: {finding.summary or 'cleared'}"
                    )
                except AlarmStateRefused:  # resolved meanwhile, by hand or by another process
                    return
                self.bus.publish(
                    AlarmResolved(
                        actor=SYSTEM, reason=done.resolution or "", alarm_id=done.id, auto=True
                    )
                )
                self._deliver(done.id)
            return
        raised = store.raise_(
            key,
            rule=rule.name,
            when=rule.when,
            severity=rule.severity,
            title=finding.title,
            model=finding.model,
            version=finding.version,
            deployment=finding.deployment,
            owner=_owner(manifest),
            runbook=_runbook(rule, manifest),
            evidence={"summary": finding.summary, "event": event.kind, **event.payload()},
            sinks=_sinks(rule, manifest),
        )
        if raised.outcome == "opened":
            alarm = raised.alarm
            self.bus.publish(
                AlarmOpened(
                    actor=event.actor,
                    reason=finding.summary,
                    alarm_id=alarm.id,
                    rule=rule.name,
                    dedup_key=key,
                    severity=rule.severity,
                    title=alarm.title,
                    deployment=alarm.deployment,
                    model=alarm.model,
                )
            )
            self._deliver(alarm.id)

    def _deliver(self, alarm_id: int) -> None:
        """Try the new messages at once; what fails stays pending for the dispatcher."""
        pending = [d for d in self.alarms.get(alarm_id).deliveries if d.status == "pending"]
        self.deliver(pending)

    def _manifest(self, model: str, version: int | None) -> Manifest | None:
        if version is None:
            return None
        try:
            return self.registry.manifest(model, version)
        except Exception:
            log.warning("no manifest for %s v%s: its alarm rules are not applied", model, version)
            return None

    def _served(self, deployment: str) -> tuple[str | None, int | None]:
        """The model and champion version of a deployment (None when unknown or unreleased)."""
        try:
            target = self.deployments.get(deployment)
        except DeploymentNotFound:
            return None, None
        release = self.deployments.current(deployment)
        return target.model, release.champion if release is not None else None


def _beyond(rule: AlarmRule, finding: Finding) -> bool:
    """Past the rule's threshold: at or above for drift and losses, below for scores."""
    assert rule.threshold is not None and finding.value is not None
    if rule.when == "performance" and not finding.lower_is_better:
        return finding.value < rule.threshold
    return finding.value >= rule.threshold


def _owner(manifest: Manifest) -> dict[str, Any]:
    support = manifest.support
    owner: dict[str, Any] = {"business": manifest.owner}
    if support is not None:
        owner.update(support.model_dump())
    return owner


def _runbook(rule: AlarmRule, manifest: Manifest) -> dict[str, Any] | None:
    entry = manifest.runbook_entry(rule.error_type) if rule.error_type else None
    return entry.model_dump() if entry is not None else None


def _sinks(rule: AlarmRule, manifest: Manifest) -> dict[str, dict[str, Any]]:
    known = {sink.name: sink.model_dump() for sink in manifest.alarms.sinks}
    return {name: known.get(name, {"name": "log", "kind": "log"}) for name in rule.sinks}


def _findings(
    event: Event, served: Callable[[str], tuple[str | None, int | None]]
) -> list[Finding]:
    """What an event says, for the rules to judge (empty when it says nothing);
    ``served`` gives a deployment's model and champion version."""
    if isinstance(event, DriftChecked):
        if event.status == "no data":
            return []
        drifted = [*event.drifted, *(f"output of v{v}" for v in event.output_drifted)]
        share = event.share_drifted or 0.0
        title = f"Drift on {event.deployment}: {', '.join(drifted[:6]) or 'none'}"
        summary = (
            f"{len(event.drifted)} feature(s) drifted ({share:.0%}) over {event.window}, "
            f"{event.rows:,} rows"
            + (
                f"; the model output of {', '.join(f'v{v}' for v in event.output_drifted)}"
                if event.output_drifted
                else ""
            )
        )
        return [
            Finding(
                "drift",
                event.status == "drift",
                f"deployment:{event.deployment}",
                title,
                summary if event.status == "drift" else f"no drift over {event.window}",
                event.model,
                event.version,
                event.deployment,
                value=share if event.drifted else (1.0 if event.output_drifted else 0.0),
            )
        ]
    if isinstance(event, PerformanceChecked):
        if event.status in ("no data", "error") or event.value is None:
            return []
        how = "estimated" if event.estimated else "measured"
        title = f"Performance of {event.deployment}: {event.metric} {event.value:.3f} ({how})"
        side = "below" if event.higher_is_better else "above"
        level = f" {side} {event.level:g}" if event.level is not None else ""
        summary = f"{event.metric} {event.value:.4f} {how}{level} over {event.window}"
        return [
            Finding(
                "performance",
                event.status == "degraded",
                f"deployment:{event.deployment}",
                title,
                summary,
                event.model,
                event.version,
                event.deployment,
                value=event.value,
                lower_is_better=not event.higher_is_better,
            )
        ]
    if isinstance(event, GateFailed | GatePassed):
        failed = ", ".join(event.failed_checks) or "see the report"
        return [
            Finding(
                "gate_failed",
                isinstance(event, GateFailed),
                f"model:{event.model}",
                f"Gate failed for {event.model} v{event.version}: {failed}",
                f"gate run {event.gate_run_id}: {event.verdict}",
                event.model,
                event.version,
                None,
            )
        ]
    deployment = getattr(event, "deployment", None)
    if deployment is None:
        return []
    model, version = served(deployment)
    if model is None:
        return []
    scope = f"deployment:{deployment}"
    if isinstance(event, BatchRunFailed):
        title = f"Batch run {event.run_id} of {deployment} ({event.partition}) failed"
        return [
            Finding("batch_run_failed", True, scope, title, event.error, model, version, deployment)
        ]
    if isinstance(event, BatchRunLate):
        title = f"{deployment}: the batch run due {event.due} has not succeeded"
        summary = f"cadence {event.cron}; last success {event.last_success}"
        return [
            Finding("life_signal_late", True, scope, title, summary, model, version, deployment)
        ]
    if isinstance(event, LifeSignalLate):
        title = f"{deployment}: every {event.instance_kind} instance is silent"
        summary = f"last heard {event.last_seen} ({len(event.instances)} instance(s))"
        return [
            Finding("life_signal_late", True, scope, title, summary, model, version, deployment)
        ]
    if isinstance(event, LifeSignalResumed):
        back = f"a {event.instance_kind} instance is heard again"
        return [Finding("life_signal_late", False, scope, "", back, model, version, deployment)]
    if isinstance(event, BatchRunFinished):
        ok = f"run {event.run_id} ({event.partition}) succeeded"
        return [
            Finding(when, False, scope, "", ok, model, version, deployment)
            for when in ("batch_run_failed", "life_signal_late")
        ]
    if isinstance(event, RolloutDecided) and event.decision == "rollback":
        title = f"Canary v{event.challenger} of {deployment} rolled back"
        summary = event.reason or "rolled back by the rollout controller"
        return [
            Finding(
                "canary_rolled_back",
                True,
                f"{scope}:v{event.challenger}",
                title,
                summary,
                model,
                event.challenger,
                deployment,
            )
        ]
    return []
