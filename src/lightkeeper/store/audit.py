"""The append-only audit trail: every state change with actor, time, subject and payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.events import Event
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import audit_events


@dataclass(frozen=True)
class AuditEntry:
    """One recorded event."""

    id: int
    at: datetime
    actor: str
    kind: str
    subject: str
    reason: str
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "subject": self.subject,
            "reason": self.reason,
            "payload": self.payload,
        }


def _utc(moment: datetime) -> datetime:
    # SQLite drops offsets when binding, so compare in UTC; naive means UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


class AuditStore:
    """Appends events and lists them back, newest first. Nothing is ever updated."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def append(self, event: Event) -> int:
        """Record a domain event; returns its audit id."""
        return self.record(
            kind=event.kind,
            actor=event.actor,
            subject=event.subject,
            payload=event.payload(),
            reason=event.reason,
        )

    def record(
        self, *, kind: str, actor: str, subject: str, payload: dict[str, Any], reason: str = ""
    ) -> int:
        """Record one entry; returns its id."""
        with self._db.write() as conn:
            result = conn.execute(
                audit_events.insert().values(
                    at=self._clock.now(),
                    actor=actor,
                    kind=kind,
                    subject=subject,
                    reason=reason,
                    payload=payload,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def list(
        self,
        *,
        kind: str | None = None,
        actor: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries matching every given filter, newest first.

        ``subject`` matches exactly or as a prefix ending at ``/`` or ``:``, so
        ``model:churn`` finds ``model:churn/3`` too.
        """
        query = sa.select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
        if kind:
            query = query.where(
                sa.or_(audit_events.c.kind == kind, audit_events.c.kind.startswith(kind + "."))
            )
        if actor:
            query = query.where(audit_events.c.actor == actor)
        if subject:
            query = query.where(
                sa.or_(
                    audit_events.c.subject == subject,
                    audit_events.c.subject.startswith(subject + "/", autoescape=True),
                    audit_events.c.subject.startswith(subject + ":", autoescape=True),
                )
            )
        if since:
            query = query.where(audit_events.c.at >= _utc(since))
        if until:
            query = query.where(audit_events.c.at < _utc(until))
        with self._db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            AuditEntry(
                id=row["id"],
                at=aware(row["at"]),
                actor=row["actor"],
                kind=row["kind"],
                subject=row["subject"],
                reason=row["reason"],
                payload=row["payload"],
            )
            for row in rows
        ]
