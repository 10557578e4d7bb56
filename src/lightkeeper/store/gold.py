"""Gold dataset versions: content-hashed, owned by the business, signed off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.errors import GoldDatasetNotFound
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import gold_datasets


@dataclass(frozen=True)
class GoldVersion:
    """One version of a gold dataset."""

    name: str
    version: int
    content_hash: str
    path: str
    rows: int
    columns: list[dict[str, str]]
    label_column: str
    segment_column: str | None
    owner: str
    source: str
    created_by: str
    created_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    approval_note: str | None = None

    @property
    def approved(self) -> bool:
        """Whether the business owner signed this version off."""
        return self.approved_by is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.content_hash,
            "path": self.path,
            "rows": self.rows,
            "columns": self.columns,
            "label_column": self.label_column,
            "segment_column": self.segment_column,
            "owner": self.owner,
            "source": self.source,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "approved": self.approved,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "approval_note": self.approval_note,
        }


class GoldStore:
    """Records of gold dataset versions (the data itself lives in Parquet files)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def find_hash(self, name: str, content_hash: str) -> GoldVersion | None:
        """The version of ``name`` with this content, if any."""
        query = sa.select(gold_datasets).where(
            gold_datasets.c.name == name, gold_datasets.c.content_hash == content_hash
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return _gold(row._mapping) if row else None

    def add_or_get(self, **fields: Any) -> tuple[GoldVersion, bool]:
        """Record a new version, or return the one a concurrent writer stored first."""
        try:
            return self.add(**fields), True
        except sa.exc.IntegrityError:
            existing = self.find_hash(fields["name"], fields["content_hash"])
            if existing is None:
                raise
            return existing, False

    def add(self, **fields: Any) -> GoldVersion:
        """Record a new version (numbered max + 1 inside the write transaction)."""
        with self._db.write() as conn:
            if not self._db.is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                    {"name": "gold:" + fields["name"]},
                )
            current = conn.execute(
                sa.select(sa.func.max(gold_datasets.c.version)).where(
                    gold_datasets.c.name == fields["name"]
                )
            ).scalar()
            version = int(current or 0) + 1
            conn.execute(
                gold_datasets.insert().values(
                    version=version, created_at=self._clock.now(), **fields
                )
            )
        return self.get(fields["name"], version)

    def get(self, name: str, version: int | None = None) -> GoldVersion:
        """One version (the newest when ``version`` is None)."""
        query = sa.select(gold_datasets).where(gold_datasets.c.name == name)
        if version is None:
            query = query.order_by(gold_datasets.c.version.desc()).limit(1)
        else:
            query = query.where(gold_datasets.c.version == version)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            if version is not None and self.versions(name):
                raise GoldDatasetNotFound(
                    f"gold dataset {name!r} has no version {version}",
                    hint=f"see its versions with: lightkeeper gold show {name}",
                )
            raise GoldDatasetNotFound(
                f"no gold dataset named {name!r}",
                hint="add one: lightkeeper gold add NAME FILE --owner OWNER --label-column COL",
            )
        return _gold(row._mapping)

    def latest_approved(self, name: str) -> GoldVersion | None:
        """The newest version the owner signed off, if any."""
        query = (
            sa.select(gold_datasets)
            .where(gold_datasets.c.name == name, gold_datasets.c.approved_by.is_not(None))
            .order_by(gold_datasets.c.version.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return _gold(row._mapping) if row else None

    def versions(self, name: str) -> list[GoldVersion]:
        """Every version of one dataset, newest first."""
        query = (
            sa.select(gold_datasets)
            .where(gold_datasets.c.name == name)
            .order_by(gold_datasets.c.version.desc())
        )
        with self._db.read() as conn:
            return [_gold(r._mapping) for r in conn.execute(query)]

    def list(self) -> list[GoldVersion]:
        """The newest version of every dataset, by name."""
        newest = (
            sa.select(gold_datasets.c.name, sa.func.max(gold_datasets.c.version).label("v"))
            .group_by(gold_datasets.c.name)
            .subquery()
        )
        query = (
            sa.select(gold_datasets)
            .join(
                newest,
                sa.and_(
                    gold_datasets.c.name == newest.c.name, gold_datasets.c.version == newest.c.v
                ),
            )
            .order_by(gold_datasets.c.name)
        )
        with self._db.read() as conn:
            return [_gold(r._mapping) for r in conn.execute(query)]

    def approve(self, name: str, version: int, *, actor: str, note: str) -> GoldVersion:
        """Record the owner's sign-off of one version."""
        self.get(name, version)
        with self._db.write() as conn:
            conn.execute(
                gold_datasets.update()
                .where(gold_datasets.c.name == name, gold_datasets.c.version == version)
                .values(approved_by=actor, approved_at=self._clock.now(), approval_note=note)
            )
        return self.get(name, version)


def _gold(row: Any) -> GoldVersion:
    return GoldVersion(
        name=row["name"],
        version=row["version"],
        content_hash=row["content_hash"],
        path=row["path"],
        rows=row["rows"],
        columns=row["columns"],
        label_column=row["label_column"],
        segment_column=row["segment_column"],
        owner=row["owner"],
        source=row["source"],
        created_by=row["created_by"],
        created_at=aware(row["created_at"]),
        approved_by=row["approved_by"],
        approved_at=aware(row["approved_at"]) if row["approved_at"] else None,
        approval_note=row["approval_note"],
    )
