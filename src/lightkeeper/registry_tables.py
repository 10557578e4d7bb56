"""Reads of MLflow's own database tables, for the commands that only list and show.

Starting MLflow's client costs seconds (importing mlflow, then its store checks its
schema); listing models or showing a version's lineage needs four small tables. When the
model store is a database (the embedded SQLite file, or PostgreSQL behind a tracking
server's backend URI) in MLflow's default workspace, the registry reads them here with
SQLAlchemy, which the ops database has loaded anyway. Anything unexpected (another
schema version, an unreachable database) returns ``None`` and the registry asks MLflow's
client instead, so this is a shortcut, never a second source of truth. Writes always go
through MLflow.
"""

from __future__ import annotations

import logging
import math
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

DELETED = "Deleted_Internal"  # MLflow's stage for a deleted version's leftover row
WORKSPACE = "default"  # MLflow 3's workspaces: the client without one uses this


class MlflowTables:
    """Read-only queries on an MLflow tracking database; ``None`` means "ask MLflow"."""

    def __init__(self, tracking_uri: str) -> None:
        self._engine: sa.Engine | None = None
        self._failed = False
        self._uri = tracking_uri

    @classmethod
    def for_uri(cls, tracking_uri: str) -> MlflowTables | None:
        """A reader when the tracking URI is a database that exists, else ``None``."""
        import os
        from pathlib import Path

        if os.environ.get("MLFLOW_WORKSPACE"):  # another workspace than the default
            return None
        if tracking_uri.startswith("sqlite:///"):
            if not Path(tracking_uri.removeprefix("sqlite:///")).is_file():
                return None
            return cls(tracking_uri)
        # PostgreSQL and SQLite quote identifiers alike ("key"); others ask MLflow
        if tracking_uri.split(":", 1)[0].split("+", 1)[0] == "postgresql":
            return cls(tracking_uri)
        return None

    def _connect(self) -> sa.Connection | None:
        if self._failed:
            return None
        try:
            if self._engine is None:
                self._engine = sa.create_engine(self._uri, poolclass=sa.pool.NullPool)
            return self._engine.connect()
        except Exception as exc:  # a driver not installed, a server down: MLflow decides
            log.debug("reading MLflow's tables directly failed: %s", exc)
            self._failed = True
            return None

    def _query(self, sql: str, **params: Any) -> list[Any] | None:
        conn = self._connect()
        if conn is None:
            return None
        try:
            with conn:
                return list(conn.execute(sa.text(sql), {"workspace": WORKSPACE, **params}))
        except Exception as exc:  # another schema version: MLflow's client knows it
            log.debug("reading MLflow's tables directly failed: %s", exc)
            self._failed = True
            return None

    def models(self, name: str | None = None) -> list[dict[str, Any]] | None:
        """Registered models (one, by ``name``) with version numbers and aliases."""
        where = " AND name = :name" if name is not None else ""
        models = self._query(
            "SELECT name, description, last_updated_time FROM registered_models "
            f"WHERE workspace = :workspace{where} ORDER BY name",
            name=name,
        )
        versions = self._query(
            "SELECT name, version FROM model_versions "
            f"WHERE workspace = :workspace AND current_stage != '{DELETED}'{where}",
            name=name,
        )
        aliases = self._query(
            "SELECT name, alias, version FROM registered_model_aliases "
            f"WHERE workspace = :workspace{where}",
            name=name,
        )
        if models is None or versions is None or aliases is None:
            return None
        found = {
            row.name: {
                "name": row.name,
                "description": row.description or "",
                "updated_ms": row.last_updated_time,
                "versions": [],
                "aliases": {},
            }
            for row in models
        }
        for row in versions:
            if row.name in found:
                found[row.name]["versions"].append(int(row.version))
        for row in aliases:
            if row.name in found:
                found[row.name]["aliases"][row.alias] = int(row.version)
        return list(found.values())

    def versions(self, name: str, number: int | None = None) -> list[SimpleNamespace] | None:
        """A model's versions (one, by ``number``) shaped like MLflow's ``ModelVersion``."""
        where = " AND version = :number" if number is not None else ""
        rows = self._query(
            "SELECT name, version, creation_time, status, source, run_id FROM model_versions "
            f"WHERE workspace = :workspace AND name = :name AND current_stage != '{DELETED}'"
            f"{where}",
            name=name,
            number=number,
        )
        tags = self._query(
            'SELECT version, "key", value FROM model_version_tags '
            f"WHERE workspace = :workspace AND name = :name{where}",
            name=name,
            number=number,
        )
        if rows is None or tags is None:
            return None
        by_version: dict[int, dict[str, str]] = {}
        for tag in tags:
            by_version.setdefault(int(tag.version), {})[tag.key] = tag.value
        return [
            SimpleNamespace(
                name=row.name,
                version=int(row.version),
                creation_timestamp=row.creation_time,
                status=row.status,
                source=row.source,
                run_id=row.run_id,
                aliases=[],
                tags=by_version.get(int(row.version), {}),
            )
            for row in rows
        ]

    def run_data(self, run_id: str) -> tuple[dict[str, str], dict[str, float]] | None:
        """A run's params and latest metrics."""
        params = self._query('SELECT "key", value FROM params WHERE run_uuid = :run', run=run_id)
        metrics = self._query(
            'SELECT "key", value, is_nan FROM latest_metrics WHERE run_uuid = :run', run=run_id
        )
        if params is None or metrics is None:
            return None
        return {p.key: p.value for p in params}, {
            m.key: math.nan if m.is_nan else float(m.value) for m in metrics
        }

    def close(self) -> None:
        """Release the engine."""
        if self._engine is not None:
            self._engine.dispose()
