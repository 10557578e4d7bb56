"""Life signals: the newest heartbeat of every running server, job or consumer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import life_signals


@dataclass(frozen=True)
class LifeSignal:
    """One instance's newest heartbeat and the cadence it promised."""

    instance_id: str
    kind: str  # serve | batch | stream | control
    subject: str  # the deployment (or job) it runs
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    cadence_seconds: float
    payload: dict[str, Any]

    def age_seconds(self, now: datetime) -> float:
        """Seconds since the last heartbeat."""
        return (now - self.last_seen).total_seconds()

    def alive(self, now: datetime) -> bool:
        """Heard from within three promised beats."""
        return self.age_seconds(now) <= 3 * self.cadence_seconds

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """JSON-ready form, with the age and the verdict at ``now``."""
        return {
            "instance_id": self.instance_id,
            "kind": self.kind,
            "subject": self.subject,
            "host": self.host,
            "pid": self.pid,
            "started_at": self.started_at.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "cadence_seconds": self.cadence_seconds,
            "age_seconds": round(self.age_seconds(now), 3),
            "alive": self.alive(now),
            "payload": self.payload,
        }


class SignalStore:
    """Upsert heartbeats; list them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def beat(self, signal: LifeSignal) -> None:
        """Record a heartbeat (replaces the instance's previous one)."""
        values = {
            "kind": signal.kind,
            "subject": signal.subject,
            "host": signal.host,
            "pid": signal.pid,
            "started_at": signal.started_at,
            "last_seen": signal.last_seen,
            "cadence_seconds": signal.cadence_seconds,
            "payload": signal.payload,
        }
        with self._db.write() as conn:
            updated = conn.execute(
                life_signals.update()
                .where(life_signals.c.instance_id == signal.instance_id)
                .values(**values)
            )
            if updated.rowcount == 0:
                conn.execute(life_signals.insert().values(instance_id=signal.instance_id, **values))

    def remove(self, instance_id: str) -> None:
        """Forget an instance that stopped cleanly (so it does not show as overdue)."""
        with self._db.write() as conn:
            conn.execute(life_signals.delete().where(life_signals.c.instance_id == instance_id))

    def all(self, *, subject: str | None = None) -> list[LifeSignal]:
        """Every instance's newest heartbeat, most recent first."""
        query = sa.select(life_signals).order_by(life_signals.c.last_seen.desc())
        if subject is not None:
            query = query.where(life_signals.c.subject == subject)
        with self._db.read() as conn:
            return [_signal(r._mapping) for r in conn.execute(query).all()]


def _signal(row: Any) -> LifeSignal:
    return LifeSignal(
        instance_id=row["instance_id"],
        kind=row["kind"],
        subject=row["subject"],
        host=row["host"],
        pid=row["pid"],
        started_at=aware(row["started_at"]),
        last_seen=aware(row["last_seen"]),
        cadence_seconds=row["cadence_seconds"],
        payload=row["payload"],
    )
