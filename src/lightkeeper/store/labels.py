"""Labels: outcomes joined to the predictions they judge (one label per prediction)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.store.db import Database
from lightkeeper.store.tables import labels


@dataclass(frozen=True)
class Label:
    """The true outcome of one logged prediction."""

    prediction_id: int
    predicted_at: datetime
    version: int
    output: Any
    label: Any


class LabelStore:
    """Upsert labels; read them back per window of prediction time."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def upsert(self, deployment: str, found: Sequence[Label]) -> int:
        """Store labels in one transaction; a prediction labelled again gets the new label."""
        if not found:
            return 0
        now = self._clock.now()
        rows = [
            {
                "deployment": deployment,
                "prediction_id": f.prediction_id,
                "predicted_at": f.predicted_at,
                "version": f.version,
                "output": f.output,
                "label": f.label,
                "ingested_at": now,
            }
            for f in found
        ]
        ids = [f.prediction_id for f in found]
        with self._db.write() as conn:
            for start in range(0, len(ids), 5000):  # bounded IN lists
                conn.execute(
                    labels.delete().where(
                        labels.c.deployment == deployment,
                        labels.c.prediction_id.in_(ids[start : start + 5000]),
                    )
                )
            conn.execute(labels.insert(), rows)
        return len(rows)

    def window(
        self, deployment: str, *, start: datetime, end: datetime, chunk: int = 20_000
    ) -> Iterator[list[tuple[int, Any, Any]]]:
        """(version, output, label) of the predictions made in ``[start, end)``, in chunks."""
        t = labels
        query = (
            sa.select(t.c.version, t.c.output, t.c.label)
            .where(t.c.deployment == deployment, t.c.predicted_at >= start, t.c.predicted_at < end)
            .execution_options(stream_results=True, yield_per=chunk)
        )
        with self._db.read() as conn:
            for part in conn.execute(query).partitions(chunk):
                yield [(r[0], r[1], r[2]) for r in part]

    def count(self, deployment: str) -> int:
        """Labels stored for a deployment."""
        query = sa.select(sa.func.count()).where(labels.c.deployment == deployment)
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())
