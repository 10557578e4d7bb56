"""The application object: the composition root of a workspace and its Python API.

``Lightkeeper(settings)`` builds each feature the first time it is used, with exactly
what that feature needs (stores, the model registry, the event bus, the clock,
settings, the default caller); features never see this object. The features *are* the
Python API, and the CLI and the HTTP API call the same objects::

    lk = Lightkeeper(Settings.load({"home": tmp_path}))
    v = lk.training.train("examples/seattle_weather")
    if lk.gate.run(v.model, v.version).verdict == "passed":
        lk.gate.accept(v.model, v.version)  # the hand-over
        lk.releases.release("weather-daily", v.version, reason="retrained on May")

The features: ``lk.training`` (train, register), ``lk.gold`` (gold datasets),
``lk.gate`` (run, accept, the release rule, runs), ``lk.releases`` (deployments: create,
release, promote, roll back, history), ``lk.batch`` and ``lk.batch_watch`` (runs, the
dead-man's switch), ``lk.drift``, ``lk.performance`` and ``lk.labels`` (monitoring),
``lk.alarms`` (find, acknowledge, resolve, deliver), ``lk.access`` (callers, tokens),
``lk.logs`` (prediction logs) and ``lk.registry`` (models, versions, manifests). Acting
methods take ``by=`` (a :class:`~lightkeeper.auth.Principal`); without it the caller is
the ``token`` setting's owner, or the local user as admin with auth off. Reads that
span features (monitor results, audit trail, life signals, loops) are methods here.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from lightkeeper.clock import Clock, SystemClock
from lightkeeper.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from fastapi import FastAPI

    from lightkeeper.access import Access
    from lightkeeper.alerts.alarms import Alarms
    from lightkeeper.alerts.dispatch import Dispatcher
    from lightkeeper.auth import Principal
    from lightkeeper.batch.cadence import BatchWatch
    from lightkeeper.batch.runner import BatchRunner
    from lightkeeper.controlplane.plane import ControlPlane
    from lightkeeper.deploy.releases import Releases
    from lightkeeper.deploy.rollout import RolloutController
    from lightkeeper.events import EventBus
    from lightkeeper.gate.gate import Gate
    from lightkeeper.gold import GoldDatasets
    from lightkeeper.logstore import LogStore
    from lightkeeper.monitor.labels import LabelIngester
    from lightkeeper.monitor.monitors import DriftMonitor
    from lightkeeper.monitor.performance import PerformanceMonitor
    from lightkeeper.monitor.schedule import MonitorSchedule
    from lightkeeper.monitor.watchdog import Watchdog
    from lightkeeper.predictor import Predictor
    from lightkeeper.registry import Registry, VersionInfo
    from lightkeeper.store import AuditEntry, Database, Stores
    from lightkeeper.store.loops import LoopDecision, LoopStatus
    from lightkeeper.store.monitors import MonitorResult
    from lightkeeper.store.signals import LifeSignal
    from lightkeeper.training import Training

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
        from lightkeeper.store import Database, migrate

        db = Database(self.settings.database_url)
        migrate(db, self.clock, actor=local_user())
        return db

    @cached_property
    def stores(self) -> Stores:
        """Every store of the ops database."""
        from lightkeeper.store import Stores

        return Stores.open(self.database, self.clock)

    @cached_property
    def logs(self) -> LogStore:
        """The prediction logs (``<home>/logs``); older ones in the database move in."""
        from lightkeeper.logstore import LogStore

        logs = LogStore(self.database, self.clock, self.settings.logs_location)
        logs.migrate()
        return logs

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
        ``deployments``, ``gates``...) gets that store; ``registry``, ``bus``, ``clock``
        and ``settings`` get the workspace's, ``predictions`` the logs, ``whoami`` the
        default caller (:meth:`principal`); ``given`` adds the rest. So each feature's
        constructor says what it uses, and only this place knows where it comes from.
        """
        from lightkeeper.store import Stores

        stores = {field.name for field in fields(Stores)}
        parts: dict[str, Any] = {}
        for name, parameter in inspect.signature(feature).parameters.items():
            if name in given:
                parts[name] = given[name]
            elif name == "whoami":
                parts[name] = self.principal
            elif name == "predictions":
                parts[name] = self.logs
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

        context = self._build(GateContext, reports=self.settings.artifact_root / "gate")
        return Gate(context, whoami=self.principal)

    @cached_property
    def releases(self) -> Releases:
        """Deployments: create, release, promote, roll back."""
        from lightkeeper.deploy.releases import Releases

        return self._build(Releases)

    @cached_property
    def batch(self) -> BatchRunner:
        """Batch scoring, one partition per run."""
        from lightkeeper.batch.runner import BatchRunner

        return self._build(BatchRunner)

    @cached_property
    def batch_watch(self) -> BatchWatch:
        """The batch dead-man's switch: runs that are due and not done."""
        from lightkeeper.batch.cadence import BatchWatch

        return self._build(BatchWatch)

    @cached_property
    def drift(self) -> DriftMonitor:
        """Drift checks over windows of prediction logs."""
        from lightkeeper.monitor.monitors import DriftMonitor

        return self._build(DriftMonitor)

    @cached_property
    def performance(self) -> PerformanceMonitor:
        """Performance checks: measured from labels, estimated from confidence."""
        from lightkeeper.monitor.performance import PerformanceMonitor

        return self._build(PerformanceMonitor)

    @cached_property
    def labels(self) -> LabelIngester:
        """Joins outcomes to the predictions they judge."""
        from lightkeeper.monitor.labels import LabelIngester

        return self._build(LabelIngester)

    @cached_property
    def monitor_schedule(self) -> MonitorSchedule:
        """The drift and performance checks that are due."""
        from lightkeeper.monitor.schedule import MonitorSchedule

        drift, performance = self.drift, self.performance
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
    def alarms(self) -> Alarms:
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
        from lightkeeper.logstore.compact import Compactor

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
            compactor=Compactor(logs=self.logs, clock=self.clock),
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

    # -- reads that span features ----------------------------------------------------------
    def principal(self, token: str | None = None, *, use_settings_token: bool = True) -> Principal:
        """Who acts: ``token``'s owner (default: the ``token`` setting's), or the local user."""
        return self.access.principal(token, use_settings_token=use_settings_token)

    def upgrade_database(self) -> tuple[str | None, str]:
        """Apply pending migrations explicitly; returns (from_revision, to_revision)."""
        from lightkeeper.access import local_user
        from lightkeeper.store import Database, migrate

        db = Database(self.settings.database_url)
        try:
            return migrate(db, self.clock, actor=local_user())
        finally:
            db.dispose()

    def version(self, model: str, version: int | str = "latest") -> VersionInfo:
        """One version with its lineage."""
        return self.registry.get_version(model, version)

    def load(self, model: str, version: int | str = "latest") -> Predictor:
        """Load a version for prediction."""
        return self.registry.load(model, version)

    def monitor_results(
        self, deployment: str, *, kind: str | None = None, limit: int = 50
    ) -> list[MonitorResult]:
        """Stored monitor results of a deployment, newest window first."""
        self.stores.deployments.get(deployment)
        return self.stores.monitors.list(deployment, kind=kind, limit=limit)

    def monitor_result(self, result_id: int, *, deployment: str | None = None) -> MonitorResult:
        """One stored monitor result."""
        return self.stores.monitors.get(result_id, deployment=deployment)

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
