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
    from datetime import datetime

    from fastapi import FastAPI

    from lightkeeper.registry import ModelSummary, Predictor, Registry, VersionInfo
    from lightkeeper.store import AuditEntry, AuditStore, Database
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
        """The event bus; every event is recorded in the audit trail."""
        return EventBus(self.audit)

    @cached_property
    def registry(self) -> Registry:
        """The MLflow model store."""
        from lightkeeper.registry import Registry

        embedded = self.settings.sources.get("tracking_uri") == "default"
        return Registry(
            self.settings.tracking_uri,
            artifact_root=self.settings.artifact_root if embedded else None,
        )

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
        self, project_dir: str | Path, *, actor: str | None = None, on_step: Step | None = None
    ) -> VersionInfo:
        """Train a project and register the model (see :func:`training.train_project`)."""
        from lightkeeper.training import train_project

        self.database  # noqa: B018 -- fail on an unreachable database before training for minutes
        return train_project(
            Path(project_dir),
            registry=self.registry,
            bus=self.bus,
            actor=actor or local_user(),
            on_step=on_step,
        )

    def register_uri(
        self, model: str, model_uri: str, *, actor: str | None = None, reason: str = ""
    ) -> VersionInfo:
        """Register a model MLflow already holds (any flavor, e.g. ``runs:/ID/model``)."""
        from lightkeeper.registry import Lineage

        self.database  # noqa: B018 -- fail on an unreachable database before registering
        who = actor or local_user()
        info = self.registry.register_uri(model, model_uri, lineage=Lineage(registered_by=who))
        self.bus.publish(
            VersionRegistered(
                actor=who, reason=reason, model=info.model, version=info.version, run_id=info.run_id
            )
        )
        return info

    def models(self) -> list[ModelSummary]:
        """Every registered model."""
        return self.registry.list_models()

    def versions(self, model: str) -> list[VersionInfo]:
        """Every version of a model, newest first."""
        return self.registry.list_versions(model)

    def version(self, model: str, version: int | str = "latest") -> VersionInfo:
        """One version with its lineage."""
        return self.registry.get_version(model, version)

    def load(self, model: str, version: int | str = "latest") -> Predictor:
        """Load a version for prediction."""
        return self.registry.load(model, version)

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

    def health(self) -> dict[str, Any]:
        """Whether the ops database answers; cheap enough for a health probe."""
        import sqlalchemy as sa

        with self.database.read() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok", "database": self.database.display_url}

    # -- HTTP -------------------------------------------------------------------------
    def api_app(self) -> FastAPI:
        """The control-plane HTTP API (and, later, the dashboard)."""
        from lightkeeper.errors import SettingsError
        from lightkeeper.web.api import build_api

        if self.settings.auth:
            # Honest refusal rather than an open API that claims to be protected.
            raise SettingsError(
                f"auth is on ({self.settings.sources['auth']}) but API tokens are not "
                "available in this lightkeeper version",
                hint="set auth to false; token auth with roles arrives with `lightkeeper tokens`",
            )
        return build_api(self)

    def close(self) -> None:
        """Release database connections."""
        if "database" in self.__dict__:
            self.database.dispose()
