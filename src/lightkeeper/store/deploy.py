"""Deployments and their release history (every release kept, so rollback is one step)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.errors import DeploymentNotFound, InvalidInput, ReleaseRefused
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import deployments, releases


@dataclass(frozen=True)
class Deployment:
    """A named place a model runs."""

    name: str
    model: str
    kind: str
    created_by: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "model": self.model,
            "kind": self.kind,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Release:
    """One change of a deployment's desired state, and the state it leaves."""

    id: int
    deployment: str
    action: str  # release | promote | rollback
    champion: int | None
    challenger: int | None
    strategy: str | None  # direct | canary | shadow (of the challenger, or direct)
    percent: float | None
    gate_run_id: int | None
    actor: str
    reason: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "deployment": self.deployment,
            "action": self.action,
            "champion": self.champion,
            "challenger": self.challenger,
            "strategy": self.strategy,
            "percent": self.percent,
            "gate_run_id": self.gate_run_id,
            "actor": self.actor,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


class DeployStore:
    """Deployments and their append-only release history."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def create(self, name: str, model: str, kind: str, *, actor: str) -> Deployment:
        """A new deployment; the name must be free."""
        with self._db.write() as conn:
            taken = conn.execute(
                sa.select(deployments.c.id).where(deployments.c.name == name)
            ).first()
            if taken is not None:
                raise InvalidInput(
                    f"a deployment named {name!r} exists already",
                    hint="pick another name, or see it with: lightkeeper deployments list",
                )
            conn.execute(
                deployments.insert().values(
                    name=name,
                    model=model,
                    kind=kind,
                    created_by=actor,
                    created_at=self._clock.now(),
                )
            )
        return self.get(name)

    def get(self, name: str) -> Deployment:
        """One deployment by name."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(deployments).where(deployments.c.name == name)).first()
        if row is None:
            raise DeploymentNotFound(
                f"no deployment named {name!r}",
                hint="create one: lightkeeper deployments create NAME --model MODEL --kind online",
            )
        return _deployment(row._mapping)

    def all(self) -> list[Deployment]:
        """Every deployment, by name."""
        with self._db.read() as conn:
            rows = conn.execute(sa.select(deployments).order_by(deployments.c.name)).all()
        return [_deployment(r._mapping) for r in rows]

    def add(self, deployment: str, *, based_on: int | None, **fields: Any) -> Release:
        """Append a release record, if the newest one is still ``based_on``.

        The check and the insert share one transaction (``BEGIN IMMEDIATE`` on SQLite, a
        row lock on the deployment on PostgreSQL), so two decisions made on the same state
        (an operator and the rollout controller, say) cannot both land.

        Returns:
            The record this call inserted, read back by its primary key inside the same
            transaction (never "the newest record", which another process may have added
            meanwhile).

        Raises:
            ReleaseRefused: the deployment changed since the caller read it.
        """
        with self._db.write() as conn:
            lock = sa.select(deployments.c.id).where(deployments.c.name == deployment)
            if not self._db.is_sqlite:
                lock = lock.with_for_update()
            conn.execute(lock)
            newest = conn.execute(
                sa.select(sa.func.max(releases.c.id)).where(releases.c.deployment == deployment)
            ).scalar()
            if newest != based_on:
                raise ReleaseRefused(
                    f"{deployment} changed while this was decided (newest release {newest}, "
                    f"expected {based_on})",
                    hint=f"look at the new state and decide again: lightkeeper releases "
                    f"{deployment}",
                )
            key = conn.execute(
                releases.insert().values(deployment=deployment, at=self._clock.now(), **fields)
            ).inserted_primary_key
            if key is None or key[0] is None:  # every supported backend reports it
                raise RuntimeError(f"the database did not report the id of {deployment}'s release")
            row = conn.execute(sa.select(releases).where(releases.c.id == key[0])).one()
            return _release(row._mapping)

    def history(self, deployment: str, *, limit: int = 1000) -> list[Release]:
        """Releases of a deployment, newest first."""
        query = (
            sa.select(releases)
            .where(releases.c.deployment == deployment)
            .order_by(releases.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_release(r._mapping) for r in conn.execute(query).all()]

    def current(self, deployment: str) -> Release | None:
        """The desired state: the newest release record, ``None`` before the first release."""
        newest = self.history(deployment, limit=1)
        return newest[0] if newest else None


def _deployment(row: Any) -> Deployment:
    return Deployment(
        name=row["name"],
        model=row["model"],
        kind=row["kind"],
        created_by=row["created_by"],
        created_at=aware(row["created_at"]),
    )


def _release(row: Any) -> Release:
    return Release(
        id=row["id"],
        deployment=row["deployment"],
        action=row["action"],
        champion=row["champion"],
        challenger=row["challenger"],
        strategy=row["strategy"],
        percent=row["percent"],
        gate_run_id=row["gate_run_id"],
        actor=row["actor"],
        reason=row["reason"],
        at=aware(row["at"]),
    )
