"""Batch runs: one record per run of a batch deployment over one partition."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.errors import InvalidInput
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import batch_runs

STATUSES = ("running", "succeeded", "failed")


@dataclass(frozen=True)
class BatchRun:
    """What one run read, wrote, rejected and with which versions."""

    id: int
    deployment: str
    partition: str
    status: str  # running | succeeded | failed
    release_id: int
    versions: dict[str, int]  # version -> rows scored with it
    input: str
    output: str
    started_at: datetime
    finished_at: datetime | None
    rows_in: int
    rows_out: int
    rows_rejected: int
    chunks: int
    resumed_chunks: int  # chunks taken over from an interrupted run
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    actor: str = ""
    instance_id: str = ""

    @property
    def seconds(self) -> float | None:
        """How long it ran, once finished."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "deployment": self.deployment,
            "partition": self.partition,
            "status": self.status,
            "release_id": self.release_id,
            "versions": self.versions,
            "input": self.input,
            "output": self.output,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "seconds": self.seconds,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_rejected": self.rows_rejected,
            "chunks": self.chunks,
            "resumed_chunks": self.resumed_chunks,
            "summary": self.summary,
            "error": self.error,
            "actor": self.actor,
            "instance_id": self.instance_id,
        }


class BatchRunStore:
    """Start, update, finish and list batch runs."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def start(
        self,
        deployment: str,
        partition: str,
        *,
        release_id: int,
        input: str,
        output: str,
        actor: str,
        instance_id: str,
    ) -> BatchRun:
        """A new run in status ``running``."""
        values = {
            "deployment": deployment,
            "partition": partition,
            "status": "running",
            "release_id": release_id,
            "versions": {},
            "input": input,
            "output": output,
            "started_at": self._clock.now(),
            "summary": {},
            "actor": actor,
            "instance_id": instance_id,
        }
        with self._db.write() as conn:
            key = conn.execute(batch_runs.insert().values(**values)).inserted_primary_key
        assert key is not None
        return self.get(int(key[0]))

    def update(self, run_id: int, **values: Any) -> BatchRun:
        """Change progress fields (rows, chunks, versions, summary, resumed_chunks)."""
        allowed = {"rows_in", "rows_out", "rows_rejected", "chunks", "versions", "summary"}
        allowed |= {"resumed_chunks"}
        unknown = set(values) - allowed
        if unknown:
            raise InvalidInput(f"cannot update {', '.join(sorted(unknown))} of a batch run")
        with self._db.write() as conn:
            conn.execute(batch_runs.update().where(batch_runs.c.id == run_id).values(**values))
        return self.get(run_id)

    def finish(
        self, run_id: int, status: str, *, error: str | None = None, **values: Any
    ) -> BatchRun:
        """Close a run as ``succeeded`` or ``failed``."""
        if status not in ("succeeded", "failed"):
            raise InvalidInput(f"{status!r} is not a final batch run status")
        with self._db.write() as conn:
            conn.execute(
                batch_runs.update()
                .where(batch_runs.c.id == run_id)
                .values(status=status, error=error, finished_at=self._clock.now(), **values)
            )
        return self.get(run_id)

    def get(self, run_id: int) -> BatchRun:
        """One run by id."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(batch_runs).where(batch_runs.c.id == run_id)).first()
        if row is None:
            raise InvalidInput(f"no batch run {run_id}", hint="lightkeeper batch runs DEPLOYMENT")
        return _run(row._mapping)

    def list(
        self,
        deployment: str,
        *,
        partition: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[BatchRun]:
        """Runs of a deployment, newest first."""
        query = sa.select(batch_runs).where(batch_runs.c.deployment == deployment)
        if partition is not None:
            query = query.where(batch_runs.c.partition == partition)
        if status is not None:
            query = query.where(batch_runs.c.status == status)
        query = query.order_by(batch_runs.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            return [_run(row._mapping) for row in conn.execute(query)]

    def last_succeeded(self, deployment: str) -> BatchRun | None:
        """The newest run that finished successfully."""
        runs = self.list(deployment, status="succeeded", limit=1)
        return runs[0] if runs else None


def _run(row: Any) -> BatchRun:
    return BatchRun(
        id=row["id"],
        deployment=row["deployment"],
        partition=row["partition"],
        status=row["status"],
        release_id=row["release_id"],
        versions={str(k): int(v) for k, v in (row["versions"] or {}).items()},
        input=row["input"],
        output=row["output"],
        started_at=aware(row["started_at"]),
        finished_at=aware(row["finished_at"]) if row["finished_at"] else None,
        rows_in=row["rows_in"],
        rows_out=row["rows_out"],
        rows_rejected=row["rows_rejected"],
        chunks=row["chunks"],
        resumed_chunks=row["resumed_chunks"],
        summary=row["summary"] or {},
        error=row["error"],
        actor=row["actor"],
        instance_id=row["instance_id"],
    )
