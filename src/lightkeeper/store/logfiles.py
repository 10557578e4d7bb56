"""The index of the prediction-log files: which files make up a deployment's logs.

The files themselves are Parquet (see :mod:`lightkeeper.logstore`); this table is what
must be transactional about them. A file counts while its row is ``live``. Compaction
and a batch re-run retire files and add their replacement in one transaction, so the
file list a reader takes is always a consistent snapshot: no row lost, none counted
twice. Retired files stay on disk for a grace period, for readers still reading them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import labels, log_files


@dataclass(frozen=True)
class LogFile:
    """One Parquet file of prediction records of one deployment and hour."""

    deployment: str
    hour: datetime
    path: str  # relative to the log root
    rows: int
    min_at: datetime
    max_at: datetime
    source: str  # serve | batch | compacted | migrated
    batch_request: str | None = None
    id: int | None = None


class LogFileStore:
    """Add, list and swap log files."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def add(self, files: Sequence[LogFile], *, delete_legacy: Sequence[int] = ()) -> None:
        """Make ``files`` part of the logs, in one transaction (and, for a migration, drop
        the old database rows they now hold)."""
        from lightkeeper.store.tables import prediction_logs

        now = self._clock.now()
        with self._db.write() as conn:
            if files:
                conn.execute(log_files.insert(), [_row(f, now) for f in files])
            for start in range(0, len(delete_legacy), 5000):
                chunk = list(delete_legacy[start : start + 5000])
                conn.execute(prediction_logs.delete().where(prediction_logs.c.id.in_(chunk)))

    def live(
        self,
        deployment: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        batch_requests: Sequence[str] | None = None,
    ) -> list[LogFile]:
        """The live files of a deployment that may hold rows in ``[start, end)``."""
        t = log_files
        query = sa.select(t).where(t.c.deployment == deployment, t.c.state == "live")
        if start is not None:
            query = query.where(t.c.max_at >= start)
        if end is not None:
            query = query.where(t.c.min_at < end)
        if batch_requests is not None:
            query = query.where(t.c.batch_request.in_(list(batch_requests)))
        with self._db.read() as conn:
            return [_file(r._mapping) for r in conn.execute(query.order_by(t.c.id))]

    def rows(self, deployment: str) -> int:
        """How many records the live files of a deployment hold."""
        t = log_files
        query = sa.select(sa.func.coalesce(sa.func.sum(t.c.rows), 0)).where(
            t.c.deployment == deployment, t.c.state == "live"
        )
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def swap(
        self,
        retire: Sequence[LogFile],
        add: Sequence[LogFile],
        *,
        deployment: str,
        drop_labels: Sequence[int] = (),
    ) -> bool:
        """Retire files and add their replacement in one transaction; ``False`` (and
        nothing changed) when one of ``retire`` is no longer live (someone else swapped
        it first). Labels of predictions that leave the logs go too."""
        now = self._clock.now()
        t = log_files
        ids = [f.id for f in retire]
        try:
            with self._db.write() as conn:
                if ids:
                    done = conn.execute(
                        t.update()
                        .where(t.c.id.in_(ids), t.c.state == "live")
                        .values(state="gone", gone_at=now)
                    )
                    if done.rowcount != len(ids):
                        raise _Lost
                for start in range(0, len(drop_labels), 5000):
                    chunk = list(drop_labels[start : start + 5000])
                    conn.execute(
                        labels.delete().where(
                            labels.c.deployment == deployment,
                            labels.c.prediction_id.in_(chunk),
                        )
                    )
                if add:
                    conn.execute(t.insert(), [_row(f, now) for f in add])
        except _Lost:
            return False
        return True

    def gone_before(self, moment: datetime) -> list[LogFile]:
        """Retired files older than ``moment``: no reader can still be reading them."""
        t = log_files
        query = sa.select(t).where(t.c.state == "gone", t.c.gone_at < moment)
        with self._db.read() as conn:
            return [_file(r._mapping) for r in conn.execute(query)]

    def forget(self, files: Sequence[LogFile]) -> None:
        """Drop the rows of retired files whose data is deleted."""
        ids = [f.id for f in files]
        with self._db.write() as conn:
            for start in range(0, len(ids), 5000):  # bounded IN lists
                chunk = ids[start : start + 5000]
                conn.execute(log_files.delete().where(log_files.c.id.in_(chunk)))

    def known_paths(self) -> set[str]:
        """Every path the index knows, live or retired."""
        with self._db.read() as conn:
            return {row[0] for row in conn.execute(sa.select(log_files.c.path))}

    def deployments(self) -> list[str]:
        """Deployments with live files."""
        t = log_files
        query = sa.select(t.c.deployment).where(t.c.state == "live").distinct()
        with self._db.read() as conn:
            return sorted(row[0] for row in conn.execute(query))


class _Lost(Exception):
    """A file to retire was retired by someone else first: roll the swap back."""


def _row(f: LogFile, now: datetime) -> dict[str, object]:
    return {
        "deployment": f.deployment,
        "hour": f.hour,
        "path": f.path,
        "rows": f.rows,
        "min_at": f.min_at,
        "max_at": f.max_at,
        "source": f.source,
        "batch_request": f.batch_request,
        "state": "live",
        "created_at": now,
    }


def _file(row: sa.RowMapping) -> LogFile:
    return LogFile(
        deployment=row["deployment"],
        hour=aware(row["hour"]),
        path=row["path"],
        rows=row["rows"],
        min_at=aware(row["min_at"]),
        max_at=aware(row["max_at"]),
        source=row["source"],
        batch_request=row["batch_request"],
        id=row["id"],
    )
