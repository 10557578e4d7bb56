"""Prediction records: one per scored row (stored in :mod:`lightkeeper.logstore`), and
the records an older lightkeeper kept in the ops database, read once to move them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import prediction_logs


@dataclass(frozen=True)
class PredictionRecord:
    """One prediction (or one failed attempt) of one row."""

    at: datetime
    deployment: str
    request_id: str
    row: int
    version: int
    arm: str  # champion | challenger | shadow
    inputs: dict[str, Any]
    output: Any
    latency_ms: float
    error: str | None = None
    flags: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "at": self.at.isoformat(),
            "deployment": self.deployment,
            "request_id": self.request_id,
            "row": self.row,
            "version": self.version,
            "arm": self.arm,
            "inputs": self.inputs,
            "output": self.output,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "flags": self.flags,
        }


class LegacyPredictionLogs:
    """Prediction records kept in the ops database by lightkeeper before 0.2, which
    :meth:`lightkeeper.logstore.LogStore.migrate` moves into the log files."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def any(self) -> bool:
        """Whether any record is left in the database."""
        with self._db.read() as conn:
            return conn.execute(sa.select(prediction_logs.c.id).limit(1)).first() is not None

    def oldest(self, limit: int) -> tuple[list[int], list[PredictionRecord]]:
        """The ids and records of the ``limit`` oldest records."""
        query = sa.select(prediction_logs).order_by(prediction_logs.c.id).limit(limit)
        with self._db.read() as conn:
            rows = [r._mapping for r in conn.execute(query).all()]
        return [int(r["id"]) for r in rows], [_record(r) for r in rows]


def _record(row: Any) -> PredictionRecord:
    return PredictionRecord(
        at=aware(row["at"]),
        deployment=row["deployment"],
        request_id=row["request_id"],
        row=row["row"],
        version=row["version"],
        arm=row["arm"],
        inputs=row["inputs"],
        output=row["output"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        flags=row["flags"],
    )
