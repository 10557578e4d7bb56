"""The application object: the composition root of a workspace and its Python API.

``Lightkeeper(settings)`` builds each feature, the first time it is used, with exactly
what that feature needs (stores, the model registry, the event bus, the clock,
settings); features never see this object. Its methods are a thin facade over them,
and the CLI, the HTTP API and Python code all go through it::

    lk = Lightkeeper(Settings.load({"home": tmp_path}))
    version = lk.train("examples/seattle_weather")

Acting methods take ``by=`` (a :class:`~lightkeeper.auth.Principal`); without it the
caller is the ``token`` setting's owner, or the local user as admin with auth off.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lightkeeper.clock import Clock, SystemClock
from lightkeeper.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import pandas as pd
    from fastapi import FastAPI

    from lightkeeper.access import Access
    from lightkeeper.alerts.alarms import Alarms
    from lightkeeper.alerts.dispatch import Dispatcher, Outcome
    from lightkeeper.auth import Principal, Role
    from lightkeeper.batch.cadence import BatchWatch, CadenceStatus
    from lightkeeper.batch.runner import BatchRunner
    from lightkeeper.controlplane.plane import ControlPlane
    from lightkeeper.deploy.releases import Releases
    from lightkeeper.deploy.rollout import RolloutController
    from lightkeeper.events import EventBus
    from lightkeeper.gate.gate import Gate
    from lightkeeper.gold import GoldDatasets
    from lightkeeper.manifest import BatchInput, BatchOutput, Manifest
    from lightkeeper.monitor.labels import Ingested, LabelIngester
    from lightkeeper.monitor.monitors import DriftMonitor
    from lightkeeper.monitor.performance import PerformanceMonitor
    from lightkeeper.monitor.schedule import MonitorSchedule
    from lightkeeper.monitor.watchdog import Watchdog
    from lightkeeper.predictor import Predictor
    from lightkeeper.registry import ModelSummary, Registry, VersionInfo
    from lightkeeper.store import AuditEntry, Database, Stores
    from lightkeeper.store.alarms import Alarm
    from lightkeeper.store.batch import BatchRun
    from lightkeeper.store.deploy import Deployment, Release
    from lightkeeper.store.gate import GateRun, Signoff
    from lightkeeper.store.gold import GoldVersion
    from lightkeeper.store.loops import LoopDecision, LoopStatus
    from lightkeeper.store.monitors import MonitorResult
    from lightkeeper.store.predictions import PredictionRecord
    from lightkeeper.store.signals import LifeSignal
    from lightkeeper.store.tokens import ApiToken
    from lightkeeper.training import Step, Training

T = TypeVar("T")
_WORKSPACE_PARTS = frozenset({"registry", "bus", "clock", "settings"})


class Lightkeeper:
    """One lightkeeper workspace: its features, built on first use, and their facade.

    Building the object costs nothing; the ops database is migrated to the current
    schema the first time it is used.
    """

    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        self.settings = settings or Settings.load()
        self.clock: Clock = clock or SystemClock()

    # -- what the features are built from ---------------------------------------------
    @cached_property
    def database(self) -> Database:
        """The ops database, migrated to the newest schema on first use."""
        from lightkeeper.access import local_user
        from lightkeeper.events import DatabaseUpgraded
        from lightkeeper.store import AuditStore, Database

        db = Database(self.settings.database_url)
        before, after = db.upgrade()
        if before != after:
            upgraded = DatabaseUpgraded(actor=local_user(), from_revision=before, to_revision=after)
            AuditStore(db, self.clock).append(upgraded)
        return db

    @cached_property
    def stores(self) -> Stores:
        """Every store of the ops database."""
        from lightkeeper.store import Stores

        return Stores.open(self.database, self.clock)

    @cached_property
    def registry(self) -> Registry:
        """The MLflow model store."""
        from lightkeeper.registry import Registry

        # A local store (sqlite or file) keeps its artifacts in the workspace, never in
        # MLflow's ./mlruns fallback under whatever folder the command runs from.
        local = self.settings.tracking_uri.startswith(("sqlite:", "file:", "/"))
        root = self.settings.artifact_root if local else None
        return Registry(self.settings.tracking_uri, artifact_root=root)

    @cached_property
    def bus(self) -> EventBus:
        """The event bus: every event goes to the audit trail, and the alarm rules listen."""
        from lightkeeper.alerts.rules import AlarmEngine
        from lightkeeper.events import EventBus

        bus = EventBus(self.stores.audit)
        self._build(AlarmEngine, bus=bus, deliver=self.dispatcher.deliver).subscribe()
        return bus

    # -- features -----------------------------------------------------------------------
    def _build(self, feature: Callable[..., T], **given: Any) -> T:
        """Build ``feature`` with the collaborators its keyword parameters name.

        A parameter named like a store (a field of :class:`~lightkeeper.store.Stores`:
        ``deployments``, ``predictions``...) gets that store; ``registry``, ``bus``,
        ``clock`` and ``settings`` get the workspace's; ``given`` adds the rest. So each
        feature's constructor says exactly what it uses, and this is the only place
        that knows where it comes from.
        """
        from lightkeeper.store import Stores

        stores = {field.name for field in fields(Stores)}
        parts: dict[str, Any] = {}
        for name, parameter in inspect.signature(feature).parameters.items():
            if name in given:
                parts[name] = given[name]
            elif name in _WORKSPACE_PARTS:
                parts[name] = getattr(self, name)
            elif name in stores:
                parts[name] = getattr(self.stores, name)
            elif parameter.default is inspect.Parameter.empty:
                raise TypeError(f"the workspace has no {name!r} for {feature.__qualname__}")
        return feature(**parts)

    @cached_property
    def access(self) -> Access:
        """Who acts, and the API tokens."""
        from lightkeeper.access import Access

        return self._build(Access)

    @cached_property
    def training(self) -> Training:
        """Training and registering versions."""
        from lightkeeper.training import Training

        return self._build(Training)

    @cached_property
    def gold(self) -> GoldDatasets:
        """Gold datasets."""
        from lightkeeper.gold import GoldDatasets

        return self._build(GoldDatasets, folder=self.settings.artifact_root / "gold")

    @cached_property
    def gate(self) -> Gate:
        """The acceptance gate and the hand-over."""
        from lightkeeper.gate.gate import Gate
        from lightkeeper.gate.runner import GateContext

        return Gate(self._build(GateContext, reports=self.settings.artifact_root / "gate"))

    @cached_property
    def releases(self) -> Releases:
        """Deployments: create, release, promote, roll back."""
        from lightkeeper.deploy.releases import Releases

        return self._build(Releases)

    @cached_property
    def batch_runner(self) -> BatchRunner:
        """Batch scoring, one partition per run."""
        from lightkeeper.batch.runner import BatchRunner

        return self._build(BatchRunner)

    @cached_property
    def batch_watch(self) -> BatchWatch:
        """The batch dead-man's switch: runs that are due and not done."""
        from lightkeeper.batch.cadence import BatchWatch

        return self._build(BatchWatch)

    @cached_property
    def drift_monitor(self) -> DriftMonitor:
        """Drift checks over windows of prediction logs."""
        from lightkeeper.monitor.monitors import DriftMonitor

        return self._build(DriftMonitor)

    @cached_property
    def performance_monitor(self) -> PerformanceMonitor:
        """Performance checks: measured from labels, estimated from confidence."""
        from lightkeeper.monitor.performance import PerformanceMonitor

        return self._build(PerformanceMonitor)

    @cached_property
    def label_ingester(self) -> LabelIngester:
        """Joins outcomes to the predictions they judge."""
        from lightkeeper.monitor.labels import LabelIngester

        return self._build(LabelIngester)

    @cached_property
    def monitor_schedule(self) -> MonitorSchedule:
        """The drift and performance checks that are due."""
        from lightkeeper.monitor.schedule import MonitorSchedule

        drift, performance = self.drift_monitor, self.performance_monitor
        return self._build(MonitorSchedule, drift=drift, performance=performance)

    @cached_property
    def watchdog(self) -> Watchdog:
        """Silent servers and consumers become late events."""
        from lightkeeper.monitor.watchdog import Watchdog

        return self._build(Watchdog)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """Sends alarm messages to their sinks; retries what failed."""
        from lightkeeper.alerts.dispatch import Dispatcher

        return self._build(Dispatcher)

    @cached_property
    def alerts(self) -> Alarms:
        """Alarms as operators handle them."""
        from lightkeeper.alerts.alarms import Alarms

        return self._build(Alarms, dispatcher=self.dispatcher)

    def rollout_controller(self, *, holder: str, only: str | None = None) -> RolloutController:
        """A rollout controller acting as ``holder``, on ``only`` one deployment or all."""
        from lightkeeper.deploy.rollout import RolloutController

        return self._build(RolloutController, releases=self.releases, holder=holder, only=only)

    def control_plane(self, holder: str | None = None) -> ControlPlane:
        """Every background loop of ``lightkeeper up``, as process ``holder``."""
        from lightkeeper.controlplane.plane import ControlPlane
        from lightkeeper.heartbeat import new_instance_id

        holder = holder or new_instance_id("control")
        return self._build(
            ControlPlane,
            holder=holder,
            records=self.stores.loops,
            rollout=self.rollout_controller(holder=holder),
            batch_watch=self.batch_watch,
            watchdog=self.watchdog,
            schedule=self.monitor_schedule,
            dispatcher=self.dispatcher,
        )

    def serving_app(
        self,
        deployment: str,
        *,
        poll: float = 0.5,
        heartbeat: float = 5.0,
        rollout: str | None = None,
    ) -> FastAPI:
        """The model server of one deployment (``lightkeeper serve``). ``rollout`` (auto, on
        or off; default: the ``serve_rollout`` setting) says whether it also judges its
        deployment's canary: see :func:`~lightkeeper.controlplane.plane.serve_rollout`."""
        from lightkeeper.controlplane.plane import serve_rollout
        from lightkeeper.heartbeat import new_instance_id
        from lightkeeper.serving.app import build_serving_app
        from lightkeeper.serving.context import ServingContext

        instance = new_instance_id("serve")
        judge = serve_rollout(
            self.rollout_controller(holder=instance, only=deployment),
            mode=rollout or self.settings.serve_rollout,
            holder=instance,
            leases=self.stores.leases,
            records=self.stores.loops,
            clock=self.clock,
        )
        return build_serving_app(
            self._build(ServingContext),
            deployment,
            poll=poll,
            heartbeat=heartbeat,
            instance_id=instance,
            loops=[judge] if judge else [],
        )

    def close(self) -> None:
        """Release database connections."""
        if "database" in self.__dict__:
            self.database.dispose()

    # -- the Python API -------------------------------------------------------------------
    def principal(self, token: str | None = None, *, use_settings_token: bool = True) -> Principal:
        """Who acts: ``token``'s owner (default: the ``token`` setting's), or the local user."""
        return self.access.principal(token, use_settings_token=use_settings_token)

    def _who(self, by: Principal | None) -> Principal:
        return by or self.principal()

    def upgrade_database(self) -> tuple[str | None, str]:
        """Apply pending migrations explicitly; returns (from_revision, to_revision)."""
        from lightkeeper.access import local_user
        from lightkeeper.events import DatabaseUpgraded
        from lightkeeper.store import AuditStore, Database

        db = Database(self.settings.database_url)
        try:
            before, after = db.upgrade()
            if before != after:
                event = DatabaseUpgraded(
                    actor=local_user(), from_revision=before, to_revision=after
                )
                AuditStore(db, self.clock).append(event)
            return before, after
        finally:
            db.dispose()

    def train(
        self,
        project_dir: str | Path,
        *,
        by: Principal | None = None,
        on_step: Step | None = None,
        params: dict[str, Any] | None = None,
    ) -> VersionInfo:
        """Train a project and register its model as a new version."""
        return self.training.train(project_dir, by=self._who(by), on_step=on_step, params=params)

    def register_uri(
        self, model: str, model_uri: str, *, by: Principal | None = None, reason: str = ""
    ) -> VersionInfo:
        """Register a model MLflow already holds (any flavor, e.g. ``runs:/ID/model``)."""
        return self.training.register_uri(model, model_uri, by=self._who(by), reason=reason)

    def gold_add(
        self,
        name: str,
        data: str | Path | pd.DataFrame,
        *,
        owner: str,
        label_column: str,
        segment_column: str | None = None,
        project_dir: str | Path | None = None,
        model: str | None = None,
        by: Principal | None = None,
    ) -> tuple[GoldVersion, bool]:
        """Add a gold dataset version from a file or frame; returns (version, created)."""
        return self.gold.add(
            name,
            data,
            owner=owner,
            label_column=label_column,
            segment_column=segment_column,
            project_dir=project_dir,
            model=model,
            by=self._who(by),
        )

    def gold_approve(
        self, name: str, version: int, *, note: str = "", by: Principal | None = None
    ) -> GoldVersion:
        """Record the business owner's sign-off of a gold dataset version."""
        return self.gold.approve(name, version, note=note, by=self._who(by))

    def gate_run(
        self,
        model: str,
        version: int | str,
        *,
        deployment: str | None = None,
        by: Principal | None = None,
        on_step: Step | None = None,
    ) -> GateRun:
        """Run the acceptance gate on a version (against ``deployment``'s champion, or
        every deployment's; the strictest decides)."""
        who = self._who(by)
        return self.gate.run(model, version, deployment=deployment, by=who, on_step=on_step)

    def gate_accept(
        self,
        model: str,
        version: int | str,
        *,
        override: bool = False,
        reason: str = "",
        by: Principal | None = None,
    ) -> GateRun:
        """Hand-over: an operator accepts the newest gate run (or overrides a failed one)."""
        return self.gate.accept(model, version, override=override, reason=reason, by=self._who(by))

    def require_accepted(self, model: str, version: int | str) -> Signoff:
        """The release rule: the version's accepted (or overridden) gate sign-off."""
        return self.gate.require_accepted(model, version)

    def deployment_create(
        self, name: str, *, model: str, kind: str, by: Principal | None = None
    ) -> Deployment:
        """A named place for a model to run: kind online, batch or stream."""
        return self.releases.create(name, model=model, kind=kind, by=self._who(by))

    def release(
        self,
        deployment: str,
        version: int | str,
        *,
        strategy: str = "direct",
        percent: float | None = None,
        reason: str,
        by: Principal | None = None,
    ) -> Release:
        """Put a version into a deployment (refused without an accepted gate run)."""
        who = self._who(by)
        return self.releases.release(
            deployment, version, strategy=strategy, percent=percent, reason=reason, by=who
        )

    def promote(self, deployment: str, *, reason: str, by: Principal | None = None) -> Release:
        """The challenger becomes the champion."""
        return self.releases.promote(deployment, reason=reason, by=self._who(by))

    def rollback(
        self, deployment: str, *, reason: str = "rollback", by: Principal | None = None
    ) -> Release:
        """One step back: drop the challenger, or return to the previous champion."""
        return self.releases.rollback(deployment, reason=reason, by=self._who(by))

    def batch_run(
        self,
        deployment: str,
        *,
        input: BatchInput | None = None,
        output: BatchOutput | None = None,
        partition: str | None = None,
        fresh: bool = False,
        progress: Callable[[int, int | None], None] | None = None,
        by: Principal | None = None,
    ) -> BatchRun:
        """Score a batch deployment's input and publish the partition (default: today)."""
        return self.batch_runner.run(
            deployment,
            by=self._who(by),
            input=input,
            output=output,
            partition=partition,
            fresh=fresh,
            progress=progress,
        )

    def batch_check(self) -> list[CadenceStatus]:
        """The batch dead-man's switch now: each batch deployment's cadence, and a
        ``batch.late`` event recorded (once per due run) for each one that is late."""
        return self.batch_watch.check()

    def monitor_drift(
        self,
        deployment: str,
        *,
        window: str | None = None,
        end: datetime | None = None,
        by: Principal | None = None,
    ) -> MonitorResult:
        """Drift of a deployment's traffic over a window against the champion's reference."""
        return self.drift_monitor.run(deployment, window=window, end=end, by=self._who(by))

    def monitor_performance(
        self,
        deployment: str,
        *,
        window: str | None = None,
        end: datetime | None = None,
        by: Principal | None = None,
    ) -> MonitorResult:
        """Performance over a window: measured from labels, estimated from confidence."""
        return self.performance_monitor.run(deployment, window=window, end=end, by=self._who(by))

    def labels_ingest(
        self,
        deployment: str,
        frame: pd.DataFrame,
        *,
        label: str | None = None,
        at: str | None = None,
        by: Principal | None = None,
    ) -> Ingested:
        """Join outcomes to the deployment's predictions and store them."""
        who = self._who(by)
        return self.label_ingester.ingest(deployment, frame, label=label, at=at, by=who)

    def alarm_ack(self, alarm_id: int, *, note: str = "", by: Principal | None = None) -> Alarm:
        """Take an open alarm on."""
        return self.alerts.acknowledge(alarm_id, note=note, by=self._who(by))

    def alarm_resolve(self, alarm_id: int, *, reason: str, by: Principal | None = None) -> Alarm:
        """Close an alarm by hand; its sinks hear of it."""
        return self.alerts.resolve(alarm_id, reason=reason, by=self._who(by))

    def alarm_deliver(
        self, *, everything: bool = False, by: Principal | None = None
    ) -> list[Outcome]:
        """Send the pending alarm messages that are due (all with ``everything``)."""
        return self.alerts.deliver(everything=everything, by=self._who(by))

    def token_create(
        self, name: str, role: Role, *, by: Principal | None = None
    ) -> tuple[ApiToken, str]:
        """Create an API token (admin only, but for the very first); returns the secret once."""
        return self.access.create(name, role, by=by)

    def token_list(self, *, by: Principal | None = None) -> list[ApiToken]:
        """Every token record (admin only; never the secrets)."""
        return self.access.list(by=self._who(by))

    def token_revoke(self, token_id: int, *, by: Principal | None = None) -> ApiToken:
        """Revoke an API token."""
        return self.access.revoke(token_id, by=self._who(by))

    # -- reads ------------------------------------------------------------------------------
    def models(self) -> list[ModelSummary]:
        """Every registered model."""
        return self.registry.list_models()

    def model(self, name: str) -> ModelSummary:
        """One registered model."""
        return self.registry.get_model(name)

    def versions(self, model: str) -> list[VersionInfo]:
        """Every version of a model, newest first."""
        return self.registry.list_versions(model)

    def version(self, model: str, version: int | str = "latest") -> VersionInfo:
        """One version with its lineage."""
        from lightkeeper.names import check_version

        return self.registry.get_version(model, check_version(version))

    def manifest(self, model: str, version: int | str = "latest") -> Manifest | None:
        """The manifest stored with a version, ``None`` if it has none."""
        return self.registry.manifest(model, version)

    def load(self, model: str, version: int | str = "latest") -> Predictor:
        """Load a version for prediction."""
        from lightkeeper.names import check_version

        return self.registry.load(model, check_version(version))

    def gold_datasets(self) -> list[GoldVersion]:
        """The newest version of every gold dataset."""
        return self.stores.gold.list()

    def gold_versions(self, name: str) -> list[GoldVersion]:
        """Every version of a gold dataset."""
        self.stores.gold.get(name)
        return self.stores.gold.versions(name)

    def gold_version(self, name: str, version: int | None = None) -> GoldVersion:
        """One gold dataset version (default: the newest)."""
        return self.stores.gold.get(name, version)

    def gate_runs(
        self, *, model: str | None = None, version: int | None = None, limit: int = 50
    ) -> list[GateRun]:
        """Gate runs, newest first."""
        return self.stores.gates.list(model=model, version=version, limit=limit)

    def gate_run_get(self, run_id: int) -> GateRun:
        """One gate run."""
        return self.stores.gates.get(run_id)

    def gate_run_latest(self, model: str, version: int) -> GateRun:
        """The newest gate run of a version."""
        return self.stores.gates.latest(model, version)

    def deployments(self) -> list[Deployment]:
        """Every deployment."""
        return self.stores.deployments.all()

    def deployment(self, name: str) -> Deployment:
        """One deployment."""
        return self.stores.deployments.get(name)

    def current_release(self, deployment: str) -> Release | None:
        """A deployment's desired state: its newest release (``None`` before the first)."""
        return self.stores.deployments.current(deployment)

    def release_history(self, deployment: str, *, limit: int = 1000) -> list[Release]:
        """A deployment's releases, newest first."""
        self.stores.deployments.get(deployment)
        return self.stores.deployments.history(deployment, limit=limit)

    def batch_runs_of(
        self, deployment: str, *, partition: str | None = None, limit: int = 50
    ) -> list[BatchRun]:
        """Runs of a batch deployment, newest first."""
        self.stores.deployments.get(deployment)
        return self.stores.batch_runs.list(deployment, partition=partition, limit=limit)

    def monitor_results(
        self, deployment: str, *, kind: str | None = None, limit: int = 50
    ) -> list[MonitorResult]:
        """Stored monitor results of a deployment, newest window first."""
        self.stores.deployments.get(deployment)
        return self.stores.monitors.list(deployment, kind=kind, limit=limit)

    def monitor_result(self, result_id: int, *, deployment: str | None = None) -> MonitorResult:
        """One stored monitor result."""
        return self.stores.monitors.get(result_id, deployment=deployment)

    def predictions(
        self,
        deployment: str,
        *,
        request_id: str | None = None,
        arm: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[PredictionRecord]:
        """Logged predictions of a deployment, newest first (shadow rows beside their twins)."""
        self.stores.deployments.get(deployment)
        find = self.stores.predictions.find
        return find(deployment, request_id=request_id, arm=arm, since=since, limit=limit)

    def alarms(
        self, *, state: str | None = "active", deployment: str | None = None, limit: int = 100
    ) -> list[Alarm]:
        """Alarms, most recently raised first (``active``: open or acknowledged; None: all)."""
        return self.alerts.find(state=state, deployment=deployment, limit=limit)

    def alarm(self, alarm_id: int) -> Alarm:
        """One alarm with its deliveries."""
        return self.stores.alarms.get(alarm_id)

    def audit_entries(
        self,
        *,
        kind: str | None = None,
        actor: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Audit entries, newest first."""
        list_ = self.stores.audit.list
        return list_(kind=kind, actor=actor, subject=subject, since=since, limit=limit)

    def life_signals(self, subject: str | None = None) -> list[LifeSignal]:
        """The newest heartbeat of every server, job or consumer instance."""
        return self.stores.signals.all(subject=subject)

    def loops(self, loop: str | None = None) -> list[LoopStatus]:
        """The control plane's loops in every process that ran them, newest round first."""
        return self.stores.loops.statuses(loop)

    def loop_decisions(
        self,
        *,
        loop: str | None = None,
        subject: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
    ) -> list[LoopDecision]:
        """What the loops decided (ran, skipped and why, failed), most recent first."""
        find = self.stores.loops.decisions
        return find(loop=loop, subject=subject, outcome=outcome, limit=limit)

    def health(self) -> dict[str, Any]:
        """Whether the ops database answers; cheap enough for a health probe."""
        import sqlalchemy as sa

        with self.database.read() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok", "database": self.database.display_url}
