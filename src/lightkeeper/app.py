"""The application object: one per workspace; owns the stores, the clock and the event bus."""

from __future__ import annotations

import getpass
import logging
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkeeper.clock import Clock, SystemClock
from lightkeeper.events import DatabaseUpgraded, EventBus, VersionRegistered
from lightkeeper.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import pandas as pd
    from fastapi import FastAPI

    from lightkeeper.auth import Principal, Role
    from lightkeeper.deploy.releases import Releases
    from lightkeeper.gate.runner import GateContext
    from lightkeeper.manifest import BatchInput, BatchOutput
    from lightkeeper.predictor import Predictor
    from lightkeeper.registry import ModelSummary, Registry, VersionInfo
    from lightkeeper.store import AuditEntry, AuditStore, Database
    from lightkeeper.store.alarms import Alarm, AlarmStore
    from lightkeeper.store.batch import BatchRun, BatchRunStore
    from lightkeeper.store.deploy import Deployment, DeployStore, Release
    from lightkeeper.store.gate import GateRun, GateStore, Signoff
    from lightkeeper.store.gold import GoldStore, GoldVersion
    from lightkeeper.store.labels import LabelStore
    from lightkeeper.store.leases import LeaseStore
    from lightkeeper.store.monitors import MonitorResult, MonitorStore
    from lightkeeper.store.predictions import PredictionRecord, PredictionStore
    from lightkeeper.store.signals import LifeSignal, SignalStore
    from lightkeeper.store.tokens import ApiToken, TokenStore
    from lightkeeper.training import Step

log = logging.getLogger(__name__)


def local_user() -> str:
    """The OS user name, recorded as the actor when auth is off."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


class Lightkeeper:
    """One lightkeeper workspace.

    The CLI builds one and calls a method; tests build one on a temporary workspace::

        lk = Lightkeeper(Settings.load({"home": tmp_path}))
        version = lk.train("examples/seattle_weather")

    Stores open lazily: building the object costs nothing, and the ops database is
    migrated to the current schema the first time it is used.
    """

    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        self.settings = settings or Settings.load()
        self.clock: Clock = clock or SystemClock()

    # -- stores -----------------------------------------------------------------------
    @cached_property
    def database(self) -> Database:
        """The ops database, migrated to the newest schema on first use."""
        from lightkeeper.store import AuditStore, Database

        db = Database(self.settings.database_url)
        before, after = db.upgrade()
        if before != after:
            AuditStore(db, self.clock).append(
                DatabaseUpgraded(actor=local_user(), from_revision=before, to_revision=after)
            )
        return db

    @cached_property
    def audit(self) -> AuditStore:
        """The append-only audit trail."""
        from lightkeeper.store import AuditStore

        return AuditStore(self.database, self.clock)

    @cached_property
    def bus(self) -> EventBus:
        """The event bus; every event is recorded in the audit trail, and the alarm
        rules listen to it."""
        from lightkeeper.alerts.rules import AlarmEngine

        bus = EventBus(self.audit)
        AlarmEngine(self).subscribe(bus)
        return bus

    @cached_property
    def registry(self) -> Registry:
        """The MLflow model store."""
        from lightkeeper.registry import Registry

        # A local store (sqlite or file) keeps its artifacts in the workspace, never in
        # MLflow's ./mlruns fallback under whatever folder the command runs from.
        local = self.settings.tracking_uri.startswith(("sqlite:", "file:", "/"))
        return Registry(
            self.settings.tracking_uri,
            artifact_root=self.settings.artifact_root if local else None,
        )

    @cached_property
    def gold_store(self) -> GoldStore:
        """Gold dataset versions."""
        from lightkeeper.store.gold import GoldStore

        return GoldStore(self.database, self.clock)

    @cached_property
    def gate_store(self) -> GateStore:
        """Gate runs and sign-offs."""
        from lightkeeper.store.gate import GateStore

        return GateStore(self.database, self.clock)

    @cached_property
    def tokens(self) -> TokenStore:
        """API tokens."""
        from lightkeeper.store.tokens import TokenStore

        return TokenStore(self.database, self.clock)

    @cached_property
    def deploy_store(self) -> DeployStore:
        """Deployments and release history."""
        from lightkeeper.store.deploy import DeployStore

        return DeployStore(self.database, self.clock)

    @cached_property
    def prediction_store(self) -> PredictionStore:
        """Prediction logs."""
        from lightkeeper.store.predictions import PredictionStore

        return PredictionStore(self.database)

    @cached_property
    def signal_store(self) -> SignalStore:
        """Life signals (heartbeats) of running instances."""
        from lightkeeper.store.signals import SignalStore

        return SignalStore(self.database)

    @cached_property
    def lease_store(self) -> LeaseStore:
        """Leases, so a controller runs in one process at a time."""
        from lightkeeper.store.leases import LeaseStore

        return LeaseStore(self.database, self.clock)

    @cached_property
    def batch_runs(self) -> BatchRunStore:
        """Records of batch runs."""
        from lightkeeper.store.batch import BatchRunStore

        return BatchRunStore(self.database, self.clock)

    @cached_property
    def monitor_store(self) -> MonitorStore:
        """Monitor results per deployment and window."""
        from lightkeeper.store.monitors import MonitorStore

        return MonitorStore(self.database, self.clock)

    @cached_property
    def label_store(self) -> LabelStore:
        """Outcomes joined to predictions."""
        from lightkeeper.store.labels import LabelStore

        return LabelStore(self.database, self.clock)

    @cached_property
    def alarm_store(self) -> AlarmStore:
        """Alarms and their deliveries."""
        from lightkeeper.store.alarms import AlarmStore

        return AlarmStore(self.database, self.clock)

    @cached_property
    def releases(self) -> Releases:
        """Release, promote, roll back."""
        from lightkeeper.deploy.releases import Releases

        return Releases(self.deploy_store, self.gate_store, self.registry, self.bus)

    # -- who is acting ----------------------------------------------------------------
    def principal(self, token: str | None = None, *, use_settings_token: bool = True) -> Principal:
        """Who acts: the token's owner and role, or the local user as admin with auth off.

        Args:
            token: an API token; without one the ``token`` setting is used (CLI).
            use_settings_token: False for HTTP requests, which bring their own token.
        """
        from lightkeeper.auth import Principal
        from lightkeeper.errors import Unauthenticated

        secret = token or (self.settings.token if use_settings_token else None)
        if secret:
            return self.tokens.verify(secret)
        if self.settings.auth:
            raise Unauthenticated(
                "auth is on and no API token was given",
                hint="set LIGHTKEEPER_TOKEN (CLI) or send Authorization: Bearer TOKEN (HTTP)",
            )
        return Principal(local_user(), "admin")

    # -- actions ----------------------------------------------------------------------
    def upgrade_database(self) -> tuple[str | None, str]:
        """Apply pending migrations explicitly; returns (from_revision, to_revision)."""
        from lightkeeper.store import Database

        db = Database(self.settings.database_url)
        try:
            before, after = db.upgrade()
            if before != after:
                from lightkeeper.store import AuditStore

                AuditStore(db, self.clock).append(
                    DatabaseUpgraded(actor=local_user(), from_revision=before, to_revision=after)
                )
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
        """Train a project and register the model (see :func:`training.train_project`);
        ``params`` go to an entrypoint that takes them and to the MLflow run."""
        from lightkeeper.training import train_project

        principal = by or self.principal()
        principal.require("model.train")
        return train_project(
            Path(project_dir),
            registry=self.registry,
            bus=self.bus,
            actor=principal.name,
            on_step=on_step,
            params=params,
        )

    def register_uri(
        self, model: str, model_uri: str, *, by: Principal | None = None, reason: str = ""
    ) -> VersionInfo:
        """Register a model MLflow already holds (any flavor, e.g. ``runs:/ID/model``)."""
        from lightkeeper.names import check_name
        from lightkeeper.registry import Lineage

        principal = by or self.principal()
        principal.require("model.register")
        check_name(model, "model")
        lineage = Lineage(registered_by=principal.name)
        info = self.registry.register_uri(model, model_uri, lineage=lineage)
        self.bus.publish(
            VersionRegistered(
                actor=principal.name,
                reason=reason,
                model=info.model,
                version=info.version,
                run_id=info.run_id,
            )
        )
        return info

    # -- gold datasets ----------------------------------------------------------------
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
        """Add a gold dataset version from a file or frame; returns (version, created).

        The columns are checked against the input schema of ``project_dir``'s manifest,
        or of the manifest stored with ``model``'s newest version.
        """
        from lightkeeper.events import GoldDatasetAdded
        from lightkeeper.gold import read_table, store_gold

        principal = by or self.principal()
        principal.require("gold.add")
        manifest = self._schema_manifest(project_dir, model)
        frame = data if not isinstance(data, str | Path) else read_table(Path(data), manifest)
        source = str(Path(data).absolute()) if isinstance(data, str | Path) else "frame"
        version, created = store_gold(
            self.gold_store,
            self.settings.artifact_root / "gold",
            name=name,
            frame=frame,
            manifest=manifest,
            owner=owner,
            label_column=label_column,
            segment_column=segment_column,
            source=source,
            actor=principal.name,
        )
        if created:
            self.bus.publish(
                GoldDatasetAdded(
                    actor=principal.name,
                    name=version.name,
                    version=version.version,
                    content_hash=version.content_hash,
                    rows=version.rows,
                    owner=version.owner,
                )
            )
        return version, created

    def _schema_manifest(self, project_dir: str | Path | None, model: str | None) -> Any:
        from lightkeeper.errors import InvalidInput
        from lightkeeper.manifest import load_manifest, parse_manifest

        if project_dir is not None:
            return load_manifest(project_dir)
        if model is None:
            raise InvalidInput(
                "a gold dataset is checked against a project's input schema",
                hint="name the project folder (--project DIR) or a registered model (--model)",
            )
        text = self.registry.manifest_text(model, "latest")
        if text is None:
            raise InvalidInput(
                f"the newest version of {model} has no manifest snapshot",
                hint="use --project DIR with the project's folder",
            )
        return parse_manifest(text, source=f"{model}:lightkeeper.yaml")

    def gold_approve(
        self, name: str, version: int, *, note: str = "", by: Principal | None = None
    ) -> GoldVersion:
        """Record the business owner's sign-off of a gold dataset version."""
        from lightkeeper.events import GoldDatasetApproved

        principal = by or self.principal()
        principal.require("gold.approve")
        approved = self.gold_store.approve(name, version, actor=principal.name, note=note)
        self.bus.publish(
            GoldDatasetApproved(
                actor=principal.name, reason=note, name=name, version=version, role=principal.role
            )
        )
        return approved

    # -- the acceptance gate ----------------------------------------------------------
    def _gate_context(self) -> GateContext:
        from lightkeeper.gate.runner import GateContext

        return GateContext(
            registry=self.registry,
            gold=self.gold_store,
            runs=self.gate_store,
            deployments=self.deploy_store,
            bus=self.bus,
            clock=self.clock,
            reports=self.settings.artifact_root / "gate",
        )

    def gate_run(
        self,
        model: str,
        version: int | str,
        *,
        deployment: str | None = None,
        by: Principal | None = None,
        on_step: Step | None = None,
    ) -> GateRun:
        """Run the acceptance gate on a version; see :func:`lightkeeper.gate.runner.run_gate`.

        Non-inferiority compares with ``deployment``'s champion, or without one with the
        champion of every deployment of the model (the strictest decides).
        """
        from lightkeeper.gate.runner import run_gate
        from lightkeeper.names import check_version

        principal = by or self.principal()
        principal.require("gate.run")
        check_version(version)
        return run_gate(
            self._gate_context(),
            model,
            version,
            actor=principal.name,
            deployment=deployment,
            on_step=on_step,
        )

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
        from lightkeeper.gate.signoff import sign_off
        from lightkeeper.names import check_version

        number = self.registry.resolve_version(model, check_version(version))
        return sign_off(
            self.gate_store,
            self.bus,
            model,
            number,
            principal=by or self.principal(),
            override=override,
            reason=reason,
        )

    def require_accepted(self, model: str, version: int | str) -> Signoff:
        """The release rule: the version's accepted (or overridden) gate sign-off."""
        from lightkeeper.gate.signoff import require_accepted
        from lightkeeper.names import check_version

        return require_accepted(
            self.gate_store, model, self.registry.resolve_version(model, check_version(version))
        )

    # -- deployments and releases -----------------------------------------------------
    def deployment_create(
        self, name: str, *, model: str, kind: str, by: Principal | None = None
    ) -> Deployment:
        """A named place for a model to run: kind online, batch or stream."""
        from lightkeeper.errors import InvalidInput
        from lightkeeper.names import check_name

        principal = by or self.principal()
        principal.require("deploy.create")
        if kind not in ("online", "batch", "stream"):
            raise InvalidInput(
                f"{kind!r} is not a deployment kind", hint="use online, batch or stream"
            )
        check_name(name, "deployment")
        self.registry.get_model(model)
        return self.deploy_store.create(name, model, kind, actor=principal.name)

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
        from lightkeeper.names import check_version

        return self.releases.release(
            deployment,
            check_version(version),
            strategy=strategy,
            percent=percent,
            reason=reason,
            by=by or self.principal(),
        )

    def promote(self, deployment: str, *, reason: str, by: Principal | None = None) -> Release:
        """The challenger becomes the champion."""
        return self.releases.promote(deployment, reason=reason, by=by or self.principal())

    def rollback(
        self, deployment: str, *, reason: str = "rollback", by: Principal | None = None
    ) -> Release:
        """One step back: drop the challenger, or return to the previous champion."""
        return self.releases.rollback(deployment, reason=reason, by=by or self.principal())

    # -- batch ------------------------------------------------------------------------
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
        """Score a batch deployment's input and publish the partition (default: today).

        ``input`` and ``output`` default to the manifest's ``batch`` section. A run of
        the same partition replaces its output; an interrupted run is taken over.
        """
        from lightkeeper.batch.runner import BatchRunner

        return BatchRunner(self).run(
            deployment,
            by=by or self.principal(),
            input=input,
            output=output,
            partition=partition,
            fresh=fresh,
            progress=progress,
        )

    def batch_runs_of(
        self, deployment: str, *, partition: str | None = None, limit: int = 50
    ) -> list[BatchRun]:
        """Runs of a batch deployment, newest first."""
        self.deploy_store.get(deployment)
        return self.batch_runs.list(deployment, partition=partition, limit=limit)

    # -- monitors ---------------------------------------------------------------------
    def monitor_drift(
        self,
        deployment: str,
        *,
        window: str | None = None,
        end: datetime | None = None,
        by: Principal | None = None,
    ) -> MonitorResult:
        """Drift of a deployment's traffic over a window (default: the manifest's
        ``monitoring.window``, ending now) against the champion's reference; stored."""
        from lightkeeper.monitor.monitors import DriftMonitor

        return DriftMonitor(self).run(deployment, window=window, end=end, by=by or self.principal())

    def monitor_performance(
        self,
        deployment: str,
        *,
        window: str | None = None,
        end: datetime | None = None,
        by: Principal | None = None,
    ) -> MonitorResult:
        """Performance of a deployment over a window: measured from labels, and for
        classifiers estimated from confidence; stored."""
        from lightkeeper.monitor.performance import PerformanceMonitor

        return PerformanceMonitor(self).run(
            deployment, window=window, end=end, by=by or self.principal()
        )

    def labels_ingest(
        self,
        deployment: str,
        frame: pd.DataFrame,
        *,
        label: str | None = None,
        at: str | None = None,
        by: Principal | None = None,
    ) -> Any:
        """Join outcomes to the deployment's predictions (by request id, or entity key and
        time) and store them; returns what matched."""
        from lightkeeper.monitor.labels import ingest

        return ingest(self, deployment, frame, label=label, at=at, by=by or self.principal())

    def monitor_results(
        self, deployment: str, *, kind: str | None = None, limit: int = 50
    ) -> list[MonitorResult]:
        """Stored monitor results of a deployment, newest window first."""
        self.deploy_store.get(deployment)
        return self.monitor_store.list(deployment, kind=kind, limit=limit)

    # -- alarms -----------------------------------------------------------------------
    def alarms(
        self, *, state: str | None = "active", deployment: str | None = None, limit: int = 100
    ) -> list[Alarm]:
        """Alarms, most recently raised first (``active``: open or acknowledged; None: all)."""
        if state not in (None, "active", "open", "acknowledged", "resolved"):
            from lightkeeper.errors import InvalidInput

            raise InvalidInput(
                f"{state!r} is not an alarm state",
                hint="active, open, acknowledged, resolved or all",
            )
        return self.alarm_store.find(state=state, deployment=deployment, limit=limit)

    def alarm_ack(self, alarm_id: int, *, note: str = "", by: Principal | None = None) -> Alarm:
        """Take an open alarm on."""
        from lightkeeper.events import AlarmAcknowledged

        principal = by or self.principal()
        principal.require("alarm.manage")
        alarm = self.alarm_store.acknowledge(alarm_id, by=principal.name, note=note)
        self.bus.publish(AlarmAcknowledged(actor=principal.name, reason=note, alarm_id=alarm_id))
        return alarm

    def alarm_resolve(self, alarm_id: int, *, reason: str, by: Principal | None = None) -> Alarm:
        """Close an alarm by hand; its sinks hear of it."""
        from lightkeeper.alerts.dispatch import Dispatcher
        from lightkeeper.errors import InvalidInput
        from lightkeeper.events import AlarmResolved

        principal = by or self.principal()
        principal.require("alarm.manage")
        if not reason.strip():
            raise InvalidInput(
                "resolving an alarm needs a reason", hint='--reason "fixed the feed"'
            )
        alarm = self.alarm_store.resolve(alarm_id, by=principal.name, resolution=reason)
        self.bus.publish(
            AlarmResolved(actor=principal.name, reason=reason, alarm_id=alarm_id, auto=False)
        )
        Dispatcher(self).deliver([d for d in alarm.deliveries if d.status == "pending"])
        return self.alarm_store.get(alarm_id)

    def alarm_deliver(self, *, everything: bool = False, by: Principal | None = None) -> list[Any]:
        """Attempt the pending alarm deliveries that are due (all of them with ``everything``).

        An operator action: it sends with the sinks' secrets.
        """
        from lightkeeper.alerts.dispatch import Dispatcher

        (by or self.principal()).require("alarm.deliver")

        return Dispatcher(self).deliver_due(everything=everything)

    # -- tokens -----------------------------------------------------------------------
    def token_create(
        self, name: str, role: Role, *, by: Principal | None = None
    ) -> tuple[ApiToken, str]:
        """Create an API token (admin only, except the very first one); returns the secret once."""
        from lightkeeper.auth import Principal
        from lightkeeper.events import TokenChanged

        if by is None and not self.settings.token and self.tokens.count() == 0:
            principal = Principal(local_user(), "admin")  # bootstrap: the very first token
        else:
            principal = by or self.principal()
        principal.require("tokens.manage")
        token, secret = self.tokens.create(name, role, created_by=principal.name)
        self.bus.publish(
            TokenChanged(
                actor=principal.name, token_id=token.id, name=name, role=role, change="created"
            )
        )
        return token, secret

    def token_list(self, *, by: Principal | None = None) -> list[ApiToken]:
        """Every token record (admin only; never the secrets)."""
        (by or self.principal()).require("tokens.manage")
        return self.tokens.list()

    def token_revoke(self, token_id: int, *, by: Principal | None = None) -> ApiToken:
        """Revoke an API token."""
        from lightkeeper.events import TokenChanged

        principal = by or self.principal()
        principal.require("tokens.manage")
        token = self.tokens.revoke(token_id)
        self.bus.publish(
            TokenChanged(
                actor=principal.name,
                token_id=token.id,
                name=token.name,
                role=token.role,
                change="revoked",
            )
        )
        return token

    def models(self) -> list[ModelSummary]:
        """Every registered model."""
        return self.registry.list_models()

    def versions(self, model: str) -> list[VersionInfo]:
        """Every version of a model, newest first."""
        return self.registry.list_versions(model)

    def version(self, model: str, version: int | str = "latest") -> VersionInfo:
        """One version with its lineage."""
        from lightkeeper.names import check_version

        return self.registry.get_version(model, check_version(version))

    def load(self, model: str, version: int | str = "latest") -> Predictor:
        """Load a version for prediction."""
        from lightkeeper.names import check_version

        return self.registry.load(model, check_version(version))

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
        return self.audit.list(kind=kind, actor=actor, subject=subject, since=since, limit=limit)

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
        self.deploy_store.get(deployment)
        return self.prediction_store.find(
            deployment, request_id=request_id, arm=arm, since=since, limit=limit
        )

    def life_signals(self, subject: str | None = None) -> list[LifeSignal]:
        """The newest heartbeat of every server, job or consumer instance."""
        return self.signal_store.all(subject=subject)

    def health(self) -> dict[str, Any]:
        """Whether the ops database answers; cheap enough for a health probe."""
        import sqlalchemy as sa

        with self.database.read() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok", "database": self.database.display_url}

    # -- HTTP -------------------------------------------------------------------------
    def api_app(self, *, controllers: bool = False) -> FastAPI:
        """The control-plane HTTP API; with ``controllers`` it also runs the rollout
        controller (``lightkeeper up``)."""
        from lightkeeper.web.api import build_api

        return build_api(self, controllers=controllers)

    def serving_app(self, deployment: str, **options: Any) -> FastAPI:
        """The model server of one deployment (``lightkeeper serve``).

        Options go to :func:`lightkeeper.serving.app.build_serving_app` (``poll``,
        ``heartbeat``, ``controller``).
        """
        from lightkeeper.serving.app import build_serving_app

        return build_serving_app(self, deployment, **options)

    def close(self) -> None:
        """Release database connections."""
        if "database" in self.__dict__:
            self.database.dispose()
