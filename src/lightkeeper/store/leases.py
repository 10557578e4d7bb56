"""Leases: one holder at a time for work that must not run twice (controllers, scheduler)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import leases


class LeaseStore:
    """Time-limited named leases; a holder renews before expiry or loses it."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def acquire(self, name: str, holder: str, *, seconds: float) -> bool:
        """Take or renew ``name`` for ``seconds``; False while someone else holds it."""
        now = self._clock.now()
        expires = now + timedelta(seconds=seconds)
        with self._db.write() as conn:
            query = sa.select(leases).where(leases.c.name == name)
            if not self._db.is_sqlite:
                query = query.with_for_update()
            row = conn.execute(query).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            leases.insert().values(name=name, holder=holder, expires_at=expires)
                        )
                except sa.exc.IntegrityError:  # another holder inserted it first
                    return False
                return True
            current = row._mapping
            if current["holder"] != holder and aware(current["expires_at"]) > now:
                return False
            conn.execute(
                leases.update()
                .where(leases.c.name == name)
                .values(holder=holder, expires_at=expires)
            )
            return True

    def release(self, name: str, holder: str) -> None:
        """Give the lease up if ``holder`` has it."""
        with self._db.write() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))

    def holder(self, name: str) -> str | None:
        """Who holds ``name`` now, if anyone."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
        if row is None or aware(row._mapping["expires_at"]) <= self._clock.now():
            return None
        return str(row._mapping["holder"])
