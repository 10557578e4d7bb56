"""Prediction logs: one record per scored row, written in batches by the serving side."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import labels, prediction_logs


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


_COLUMNS = [
    "at",
    "deployment",
    "request_id",
    "row",
    "version",
    "arm",
    "inputs",
    "output",
    "latency_ms",
    "error",
    "flags",
]


class PredictionStore:
    """Append prediction records in batches; read them back for monitors and audits."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_many(self, records: Sequence[PredictionRecord]) -> None:
        """Insert records in one transaction (all or none)."""
        if not records:
            return
        rows = [{name: getattr(r, name) for name in _COLUMNS} for r in records]
        with self._db.write() as conn:
            conn.execute(prediction_logs.insert(), rows)

    def replace(
        self, deployment: str, request_ids: Sequence[str], records: Sequence[PredictionRecord]
    ) -> None:
        """Delete the records of ``request_ids`` and insert ``records``, in one transaction
        (a batch partition run again replaces its logged sample)."""
        rows = [{name: getattr(r, name) for name in _COLUMNS} for r in records]
        t = prediction_logs
        with self._db.write() as conn:
            if request_ids:
                old = t.c.deployment == deployment, t.c.request_id.in_(request_ids)
                # labels of the replaced rows go too: their predictions no longer exist
                conn.execute(
                    labels.delete().where(
                        labels.c.deployment == deployment,
                        labels.c.prediction_id.in_(sa.select(t.c.id).where(*old)),
                    )
                )
                conn.execute(t.delete().where(*old))
            if rows:
                conn.execute(t.insert(), rows)

    def find(
        self,
        deployment: str,
        *,
        since: datetime | None = None,
        request_id: str | None = None,
        arm: str | None = None,
        limit: int = 100,
    ) -> list[PredictionRecord]:
        """Records of a deployment, newest first."""
        query = sa.select(prediction_logs).where(prediction_logs.c.deployment == deployment)
        if since is not None:
            query = query.where(prediction_logs.c.at >= since)
        if request_id is not None:
            query = query.where(prediction_logs.c.request_id == request_id)
        if arm is not None:
            query = query.where(prediction_logs.c.arm == arm)
        query = query.order_by(prediction_logs.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            return [_record(r._mapping) for r in conn.execute(query).all()]

    def outcomes(self, deployment: str, *, since: datetime, limit: int) -> list[tuple[Any, ...]]:
        """(arm, version, request_id, row, output, latency_ms, error, flags) since a time,
        newest first.

        The lean read the rollout controller needs: no inputs, no entity objects.
        """
        t = prediction_logs
        query = (
            sa.select(
                t.c.arm,
                t.c.version,
                t.c.request_id,
                t.c.row,
                t.c.output,
                t.c.latency_ms,
                t.c.error,
                t.c.flags,
            )
            .where(t.c.deployment == deployment, t.c.at >= since)
            .order_by(t.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as conn:
            return [tuple(row) for row in conn.execute(query)]

    def served(
        self, deployment: str, *, start: datetime, end: datetime, chunk: int = 20_000
    ) -> Iterator[list[tuple[Any, Any, int]]]:
        """(inputs, output, version) of the rows answered in ``[start, end)``, in chunks.

        Streamed (a server-side cursor on PostgreSQL), so a monitor's memory does not grow
        with the window. Shadow copies and failed attempts are left out: the window is
        what clients got.
        """
        import orjson

        t = prediction_logs
        # the inputs as text, decoded here by orjson: 4x faster than the driver's json.loads
        # (outputs, small scalars, through the driver: SQLite keeps them as exact REALs)
        query = (
            sa.select(sa.cast(t.c.inputs, sa.Text), t.c.output, t.c.version)
            .where(
                t.c.deployment == deployment,
                t.c.at >= start,
                t.c.at < end,
                t.c.arm != "shadow",
                t.c.error.is_(None),
            )
            .execution_options(stream_results=True, yield_per=chunk)
        )
        loads = orjson.loads
        with self._db.read() as conn:
            for part in conn.execute(query).partitions(chunk):
                yield [(loads(inputs), output, version) for inputs, output, version in part]

    def by_request(
        self, deployment: str, request_ids: Sequence[str]
    ) -> list[tuple[int, datetime, str, int, int, Any]]:
        """(id, at, request_id, row, version, output) of the answered rows of these requests."""
        t = prediction_logs
        query = sa.select(t.c.id, t.c.at, t.c.request_id, t.c.row, t.c.version, t.c.output).where(
            t.c.deployment == deployment,
            t.c.request_id.in_(list(request_ids)),
            t.c.arm != "shadow",
            t.c.error.is_(None),
        )
        with self._db.read() as conn:
            return [(r[0], aware(r[1]), *r[2:]) for r in conn.execute(query)]

    def by_keys(
        self, deployment: str, columns: Sequence[str], *, chunk: int = 20_000
    ) -> Iterator[list[tuple[int, datetime, int, Any, tuple[Any, ...]]]]:
        """(id, at, version, output, key values) of every answered row, in chunks: the
        entity key read from each row's logged inputs (for joining labels by key)."""
        t = prediction_logs
        keys = [t.c.inputs[name] for name in columns]
        query = (
            sa.select(t.c.id, t.c.at, t.c.version, t.c.output, *keys)
            .where(t.c.deployment == deployment, t.c.arm != "shadow", t.c.error.is_(None))
            .execution_options(stream_results=True, yield_per=chunk)
        )
        with self._db.read() as conn:
            for part in conn.execute(query).partitions(chunk):
                yield [(r[0], aware(r[1]), r[2], r[3], tuple(r[4:])) for r in part]

    def count(self, deployment: str) -> int:
        """How many records a deployment has."""
        query = sa.select(sa.func.count()).where(prediction_logs.c.deployment == deployment)
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())


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
