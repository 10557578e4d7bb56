"""Monitor results: one record per check of one deployment over one window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.errors import MonitorResultNotFound, RunInProgress
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import monitor_results


@dataclass(frozen=True)
class MonitorResult:
    """What one monitor found over one window of a deployment's predictions.

    ``status`` is ``ok``, ``drift`` (or, for performance, ``degraded``) or ``no data``;
    ``value`` the headline number (the share of drifted features); ``result`` the whole
    report as JSON data.
    """

    id: int
    deployment: str
    kind: str  # drift | performance
    window_start: datetime
    window_end: datetime
    computed_at: datetime
    version: int | None
    rows: int
    status: str
    value: float | None
    result: dict[str, Any] = field(default_factory=dict)
    actor: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "deployment": self.deployment,
            "kind": self.kind,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "computed_at": self.computed_at.isoformat(),
            "version": self.version,
            "rows": self.rows,
            "status": self.status,
            "value": self.value,
            "result": self.result,
            "actor": self.actor,
        }


class MonitorStore:
    """Save and read monitor results; a window checked again replaces its result."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def save(
        self,
        deployment: str,
        kind: str,
        *,
        window_start: datetime,
        window_end: datetime,
        version: int | None,
        rows: int,
        status: str,
        value: float | None,
        result: dict[str, Any],
        actor: str,
    ) -> MonitorResult:
        """Store a result, replacing an earlier one of the same deployment, kind and window."""
        t = monitor_results
        same = sa.and_(
            t.c.deployment == deployment,
            t.c.kind == kind,
            t.c.window_start == window_start,
            t.c.window_end == window_end,
        )
        values = {
            "deployment": deployment,
            "kind": kind,
            "window_start": window_start,
            "window_end": window_end,
            "computed_at": self._clock.now(),
            "version": version,
            "rows": rows,
            "status": status,
            "value": value,
            "result": result,
            "actor": actor,
        }
        for _attempt in range(3):  # another process may store the same window at once
            try:
                with self._db.write() as conn:
                    conn.execute(t.delete().where(same))
                    key = conn.execute(t.insert().values(**values)).inserted_primary_key
            except sa.exc.IntegrityError:
                continue
            assert key is not None
            return self.get(int(key[0]))
        raise RunInProgress(
            f"another process keeps storing the {kind} result of {deployment} for this window",
            hint="run the check again in a moment",
        )

    def get(self, result_id: int, *, deployment: str | None = None) -> MonitorResult:
        """One result by id (of ``deployment`` when given)."""
        query = sa.select(monitor_results).where(monitor_results.c.id == result_id)
        if deployment is not None:
            query = query.where(monitor_results.c.deployment == deployment)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            where = f" of {deployment}" if deployment else ""
            raise MonitorResultNotFound(
                f"no monitor result {result_id}{where}",
                hint="lightkeeper monitor results DEPLOYMENT lists them",
            )
        return _result(row._mapping)

    def list(
        self, deployment: str, *, kind: str | None = None, limit: int = 50
    ) -> list[MonitorResult]:
        """Results of a deployment, newest window first."""
        t = monitor_results
        query = sa.select(t).where(t.c.deployment == deployment)
        if kind is not None:
            query = query.where(t.c.kind == kind)
        query = query.order_by(t.c.window_end.desc(), t.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            return [_result(row._mapping) for row in conn.execute(query)]


def _result(row: Any) -> MonitorResult:
    return MonitorResult(
        id=row["id"],
        deployment=row["deployment"],
        kind=row["kind"],
        window_start=aware(row["window_start"]),
        window_end=aware(row["window_end"]),
        computed_at=aware(row["computed_at"]),
        version=row["version"],
        rows=row["rows"],
        status=row["status"],
        value=row["value"],
        result=row["result"] or {},
        actor=row["actor"],
    )
