"""Alarms (one open alarm per problem, occurrences counted) and their deliveries to sinks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.errors import AlarmNotFound, AlarmStateRefused
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import alarm_deliveries, alarms

STATES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True)
class Delivery:
    """One message (``opened`` or ``resolved``) of one alarm to one sink, and how it went."""

    id: int
    alarm_id: int
    message: str  # opened | resolved
    sink: str
    kind: str  # log | webhook | chat | email | ticket
    config: dict[str, Any]
    status: str  # pending | delivered
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    receipt: dict[str, Any] | None = None  # what the sink answered (a ticket's key...)
    claimed_until: datetime | None = None  # an attempt is under way (until then, at most)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "alarm_id": self.alarm_id,
            "message": self.message,
            "sink": self.sink,
            "kind": self.kind,
            "status": self.status,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "last_error": self.last_error,
            "receipt": self.receipt,
            "claimed_until": self.claimed_until.isoformat() if self.claimed_until else None,
        }


@dataclass(frozen=True)
class Alarm:
    """An open problem: which rule, how loud, about what, who owns it, what to do first."""

    id: int
    dedup_key: str
    rule: str
    when: str
    severity: str
    state: str  # open | acknowledged | resolved
    title: str
    model: str | None
    version: int | None
    deployment: str | None
    owner: dict[str, Any]
    runbook: dict[str, Any] | None
    evidence: dict[str, Any]
    sinks: list[str]
    occurrences: int
    opened_at: datetime
    last_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Deliveries not made yet (a sink down or misconfigured)."""
        return sum(1 for d in self.deliveries if d.status == "pending")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        when = {
            name: value.isoformat() if value else None
            for name, value in (
                ("opened_at", self.opened_at),
                ("last_at", self.last_at),
                ("acknowledged_at", self.acknowledged_at),
                ("resolved_at", self.resolved_at),
            )
        }
        return {
            "id": self.id,
            "dedup_key": self.dedup_key,
            "rule": self.rule,
            "when": self.when,
            "severity": self.severity,
            "state": self.state,
            "title": self.title,
            "model": self.model,
            "version": self.version,
            "deployment": self.deployment,
            "owner": self.owner,
            "runbook": self.runbook,
            "evidence": self.evidence,
            "sinks": self.sinks,
            "occurrences": self.occurrences,
            **when,
            "acknowledged_by": self.acknowledged_by,
            "resolved_by": self.resolved_by,
            "resolution": self.resolution,
            "pending_deliveries": self.pending,
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


@dataclass(frozen=True)
class Raised:
    """What :meth:`AlarmStore.raise_` did: ``opened`` a new alarm or ``counted`` an
    occurrence of the open one."""

    alarm: Alarm
    outcome: str  # opened | counted


class AlarmStore:
    """Open, count, acknowledge and resolve alarms; queue and record their deliveries."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def raise_(
        self,
        dedup_key: str,
        *,
        rule: str,
        when: str,
        severity: str,
        title: str,
        model: str | None,
        version: int | None,
        deployment: str | None,
        owner: dict[str, Any],
        runbook: dict[str, Any] | None,
        evidence: dict[str, Any],
        sinks: dict[str, dict[str, Any]],
    ) -> Raised:
        """Open an alarm with a delivery per sink, or count one more occurrence of the
        unresolved alarm with the same ``dedup_key`` (its evidence becomes the newest)."""
        now = self._clock.now()
        for _attempt in range(2):  # a second process may open the same alarm at once
            try:
                with self._db.write() as conn:
                    current = self._unresolved(conn, dedup_key)
                    if current is not None:
                        counted = conn.execute(
                            alarms.update()
                            .where(alarms.c.id == current, alarms.c.state != "resolved")
                            .values(
                                occurrences=alarms.c.occurrences + 1,
                                last_at=now,
                                evidence=evidence,
                                title=title,
                                version=version,
                            )
                        )
                        if counted.rowcount == 1:
                            return Raised(self._get(conn, current), "counted")
                        continue  # resolved since we looked (PostgreSQL): open a new one
                    values = {
                        "dedup_key": dedup_key,
                        "rule": rule,
                        "when": when,
                        "severity": severity,
                        "state": "open",
                        "title": title,
                        "model": model,
                        "version": version,
                        "deployment": deployment,
                        "owner": owner,
                        "runbook": runbook,
                        "evidence": evidence,
                        "sinks": list(sinks),
                        "occurrences": 1,
                        "opened_at": now,
                        "last_at": now,
                    }
                    key = conn.execute(alarms.insert().values(**values)).inserted_primary_key
                    assert key is not None
                    alarm_id = int(key[0])
                    self._queue(conn, alarm_id, "opened", sinks, now)
                    return Raised(self._get(conn, alarm_id), "opened")
            except sa.exc.IntegrityError:
                continue
        raise AlarmStateRefused(
            f"the alarm {dedup_key!r} could not be opened or counted",
            hint="another process keeps changing it; try again",
        )

    def acknowledge(self, alarm_id: int, *, by: str, note: str = "") -> Alarm:
        """Someone is on it: ``open`` becomes ``acknowledged``."""
        now = self._clock.now()
        with self._db.write() as conn:
            alarm = self._get(conn, alarm_id)
            if alarm.state != "open":
                raise AlarmStateRefused(
                    f"alarm {alarm_id} is {alarm.state}, so it cannot be acknowledged",
                    hint="only open alarms are acknowledged",
                )
            changed = conn.execute(
                alarms.update()
                .where(alarms.c.id == alarm_id, alarms.c.state == "open")
                .values(state="acknowledged", acknowledged_by=by, acknowledged_at=now)
            )
            if changed.rowcount != 1:  # changed since we looked (another process)
                raise AlarmStateRefused(
                    f"alarm {alarm_id} changed meanwhile and is no longer open",
                    hint=f"lightkeeper alarms show {alarm_id}",
                )
            return self._get(conn, alarm_id)

    def resolve(
        self,
        alarm_id: int,
        *,
        by: str,
        resolution: str,
        sinks: dict[str, dict[str, Any]] | None = None,
    ) -> Alarm:
        """Close an alarm and queue a ``resolved`` message to its sinks."""
        now = self._clock.now()
        with self._db.write() as conn:
            alarm = self._get(conn, alarm_id)
            if alarm.state == "resolved":
                raise AlarmStateRefused(
                    f"alarm {alarm_id} is already resolved ({alarm.resolution})",
                    hint="a new occurrence of the problem opens a new alarm",
                )
            changed = conn.execute(
                alarms.update()
                .where(alarms.c.id == alarm_id, alarms.c.state != "resolved")
                .values(state="resolved", resolved_by=by, resolved_at=now, resolution=resolution)
            )
            if changed.rowcount != 1:  # resolved meanwhile by another process
                raise AlarmStateRefused(
                    f"alarm {alarm_id} is already resolved",
                    hint="a new occurrence of the problem opens a new alarm",
                )
            self._queue(conn, alarm_id, "resolved", sinks or self._sinks_of(conn, alarm_id), now)
            return self._get(conn, alarm_id)

    def unresolved(self, dedup_key: str) -> Alarm | None:
        """The open or acknowledged alarm of a problem, if any."""
        with self._db.read() as conn:
            found = self._unresolved(conn, dedup_key)
            return self._get(conn, found) if found is not None else None

    def get(self, alarm_id: int) -> Alarm:
        """One alarm with its deliveries."""
        with self._db.read() as conn:
            return self._get(conn, alarm_id)

    def find(
        self,
        *,
        state: str | None = None,
        deployment: str | None = None,
        limit: int = 100,
    ) -> list[Alarm]:
        """Alarms, most recently raised first; ``state`` ``active`` means not resolved."""
        query = sa.select(alarms)
        if state == "active":
            query = query.where(alarms.c.state != "resolved")
        elif state is not None:
            query = query.where(alarms.c.state == state)
        if deployment is not None:
            query = query.where(alarms.c.deployment == deployment)
        query = query.order_by(alarms.c.last_at.desc(), alarms.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
            deliveries = self._deliveries(conn, [row.id for row in rows])
        return [_alarm(row._mapping, deliveries.get(row.id, [])) for row in rows]

    # -- deliveries -------------------------------------------------------------------
    def due(self, *, limit: int = 100, everything: bool = False) -> list[Delivery]:
        """Pending deliveries whose next attempt is due (all pending ones with
        ``everything``), oldest first; never one that a process is attempting right now."""
        t = alarm_deliveries
        now = self._clock.now()
        query = sa.select(t).where(t.c.status == "pending", _unclaimed(now))
        if not everything:
            query = query.where(t.c.next_attempt_at <= now)
        query = query.order_by(t.c.id).limit(limit)
        with self._db.read() as conn:
            return [_delivery(row._mapping) for row in conn.execute(query)]

    def claim(self, delivery: Delivery, *, seconds: float = 120.0) -> bool:
        """Take a pending delivery for one attempt: True for exactly one process.

        One compare-and-set ``UPDATE``: it succeeds only if the delivery is still pending,
        nobody attempted it since ``delivery`` was read (same attempts, same next attempt)
        and no other claim holds it. The claim holds for ``seconds``; :meth:`delivered`
        and :meth:`failed` release it, and a crash mid-attempt lets it lapse, so the
        delivery is due again then. Send only after a claim returned True.
        """
        from datetime import timedelta

        t = alarm_deliveries
        now = self._clock.now()
        with self._db.write() as conn:
            taken = conn.execute(
                t.update()
                .where(
                    t.c.id == delivery.id,
                    t.c.status == "pending",
                    t.c.next_attempt_at == delivery.next_attempt_at,
                    t.c.attempts == delivery.attempts,
                    _unclaimed(now),
                )
                .values(claimed_until=now + timedelta(seconds=seconds))
            )
            return taken.rowcount == 1

    def delivered(self, delivery_id: int, receipt: dict[str, Any] | None = None) -> None:
        """Record a successful delivery (and what the sink answered)."""
        t = alarm_deliveries
        with self._db.write() as conn:
            conn.execute(
                t.update()
                .where(t.c.id == delivery_id)
                .values(
                    status="delivered",
                    attempts=t.c.attempts + 1,
                    delivered_at=self._clock.now(),
                    last_error=None,
                    receipt=receipt,
                    claimed_until=None,
                )
            )

    def failed(self, delivery_id: int, *, error: str, retry_at: datetime) -> None:
        """Record a failed attempt; the delivery stays pending until ``retry_at``."""
        t = alarm_deliveries
        with self._db.write() as conn:
            conn.execute(
                t.update()
                .where(t.c.id == delivery_id)
                .values(
                    attempts=t.c.attempts + 1,
                    last_error=error[:2000],
                    next_attempt_at=retry_at,
                    claimed_until=None,
                )
            )

    def receipt(self, alarm_id: int, sink: str) -> dict[str, Any] | None:
        """What a sink answered to an alarm's ``opened`` message (a ticket's key...)."""
        t = alarm_deliveries
        query = sa.select(t.c.receipt).where(
            t.c.alarm_id == alarm_id, t.c.sink == sink, t.c.message == "opened"
        )
        with self._db.read() as conn:
            found = conn.execute(query).scalar()
        return dict(found) if found else None

    def pending_count(self) -> int:
        """Deliveries not made yet, across all alarms."""
        t = alarm_deliveries
        query = sa.select(sa.func.count()).where(t.c.status == "pending")
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    # -- helpers ----------------------------------------------------------------------
    def _queue(
        self,
        conn: sa.Connection,
        alarm_id: int,
        message: str,
        sinks: dict[str, dict[str, Any]],
        now: datetime,
    ) -> None:
        rows = [
            {
                "alarm_id": alarm_id,
                "message": message,
                "sink": name,
                "kind": config.get("kind", "log"),
                "config": config,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for name, config in sinks.items()
        ]
        if rows:
            conn.execute(alarm_deliveries.insert(), rows)

    def _sinks_of(self, conn: sa.Connection, alarm_id: int) -> dict[str, dict[str, Any]]:
        """The sinks an alarm's ``opened`` message went to, with their configuration."""
        t = alarm_deliveries
        query = sa.select(t.c.sink, t.c.config).where(
            t.c.alarm_id == alarm_id, t.c.message == "opened"
        )
        return {row.sink: row.config for row in conn.execute(query)}

    def _unresolved(self, conn: sa.Connection, dedup_key: str) -> int | None:
        query = sa.select(alarms.c.id).where(
            alarms.c.dedup_key == dedup_key, alarms.c.state != "resolved"
        )
        found = conn.execute(query).scalar()
        return int(found) if found is not None else None

    def _get(self, conn: sa.Connection, alarm_id: int) -> Alarm:
        row = conn.execute(sa.select(alarms).where(alarms.c.id == alarm_id)).first()
        if row is None:
            raise AlarmNotFound(f"no alarm {alarm_id}", hint="lightkeeper alarms list --state all")
        return _alarm(row._mapping, self._deliveries(conn, [alarm_id]).get(alarm_id, []))

    def _deliveries(self, conn: sa.Connection, ids: list[int]) -> dict[int, list[Delivery]]:
        if not ids:
            return {}
        t = alarm_deliveries
        query = sa.select(t).where(t.c.alarm_id.in_(ids)).order_by(t.c.id)
        out: dict[int, list[Delivery]] = {}
        for row in conn.execute(query):
            out.setdefault(row.alarm_id, []).append(_delivery(row._mapping))
        return out


def _unclaimed(now: datetime) -> sa.ColumnElement[bool]:
    """No attempt holds the delivery: never claimed, released, or the claim lapsed."""
    t = alarm_deliveries
    return sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now)


def _when(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None


def _alarm(row: Any, deliveries: list[Delivery]) -> Alarm:
    return Alarm(
        id=row["id"],
        dedup_key=row["dedup_key"],
        rule=row["rule"],
        when=row["when"],
        severity=row["severity"],
        state=row["state"],
        title=row["title"],
        model=row["model"],
        version=row["version"],
        deployment=row["deployment"],
        owner=row["owner"] or {},
        runbook=row["runbook"],
        evidence=row["evidence"] or {},
        sinks=list(row["sinks"] or []),
        occurrences=row["occurrences"],
        opened_at=aware(row["opened_at"]),
        last_at=aware(row["last_at"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=_when(row["acknowledged_at"]),
        resolved_by=row["resolved_by"],
        resolved_at=_when(row["resolved_at"]),
        resolution=row["resolution"],
        deliveries=deliveries,
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        alarm_id=row["alarm_id"],
        message=row["message"],
        sink=row["sink"],
        kind=row["kind"],
        config=row["config"] or {},
        status=row["status"],
        attempts=row["attempts"],
        created_at=aware(row["created_at"]),
        next_attempt_at=aware(row["next_attempt_at"]),
        delivered_at=_when(row["delivered_at"]),
        last_error=row["last_error"],
        receipt=row["receipt"],
        claimed_until=_when(row["claimed_until"]),
    )
