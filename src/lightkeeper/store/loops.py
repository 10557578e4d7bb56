"""What the control plane's loops did: their status and every decision of their rounds.

A loop that decides the same thing round after round (the dispatcher finding nothing
due every 5 seconds, a canary observed every second) would fill the table with copies,
so a decision with the same outcome and key (:attr:`Decision.same_as`) as the newest one
recorded for the same loop, subject and process is counted on that row instead
(``count``, ``last_at``, and the newest ``reason``). Decisions and the statuses of
processes not heard from within the retention are deleted as new rounds arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.decisions import Decision
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import loop_decisions, loop_status

RETENTION = timedelta(days=7)
_PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class LoopStatus:
    """One loop as seen by one process: its state and its newest round."""

    loop: str
    holder: str
    interval_seconds: float
    state: str  # working | standby | failing | stopped
    rounds: int
    last_round_at: datetime
    last_seconds: float
    last_error: str | None

    def current(self, now: datetime) -> bool:
        """Its last round ended within ten intervals (at least a minute), as long as a
        lease lasts: the process still runs the loop."""
        ended = self.last_round_at + timedelta(seconds=self.last_seconds)
        return (now - ended).total_seconds() <= max(10 * self.interval_seconds, 60)

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """JSON-ready form; ``state`` is ``stopped`` when the process has gone quiet."""
        return {
            "loop": self.loop,
            "holder": self.holder,
            "interval_seconds": self.interval_seconds,
            "state": self.state if self.current(now) else "stopped",
            "rounds": self.rounds,
            "last_round_at": self.last_round_at.isoformat(),
            "last_seconds": round(self.last_seconds, 4),
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class LoopDecision:
    """A recorded decision, with how often it was repeated."""

    id: int
    loop: str
    subject: str
    outcome: str
    reason: str
    holder: str
    first_at: datetime
    last_at: datetime
    count: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "loop": self.loop,
            "subject": self.subject,
            "outcome": self.outcome,
            "reason": self.reason,
            "holder": self.holder,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "count": self.count,
        }


class LoopStore:
    """Record rounds of the control plane's loops; list statuses and decisions."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._pruned_at: datetime | None = None

    def record(
        self,
        loop: str,
        holder: str,
        *,
        interval: float,
        state: str,
        started_at: datetime,
        seconds: float,
        decisions: Sequence[Decision] = (),
        error: str | None = None,
        rounds: int = 1,
    ) -> None:
        """Record ``rounds`` rounds of ``loop`` in process ``holder`` that decided alike,
        the newest of them started at ``started_at``."""
        now = self._clock.now()
        with self._db.write() as conn:
            self._status(conn, loop, holder, interval, state, started_at, seconds, error, rounds)
            for decision in decisions:
                self._decision(conn, loop, holder, decision, now, rounds)
            if self._pruned_at is None or now - self._pruned_at > _PRUNE_EVERY:
                old = now - RETENTION
                conn.execute(loop_decisions.delete().where(loop_decisions.c.last_at < old))
                conn.execute(loop_status.delete().where(loop_status.c.last_round_at < old))
                self._pruned_at = now

    def _status(
        self,
        conn: sa.Connection,
        loop: str,
        holder: str,
        interval: float,
        state: str,
        started_at: datetime,
        seconds: float,
        error: str | None,
        rounds: int,
    ) -> None:
        key = (loop_status.c.loop == loop) & (loop_status.c.holder == holder)
        values = {
            "interval_seconds": interval,
            "state": state,
            "last_round_at": started_at,
            "last_seconds": seconds,
            "last_error": error,
        }
        updated = conn.execute(
            loop_status.update().where(key).values(rounds=loop_status.c.rounds + rounds, **values)
        )
        if updated.rowcount == 0:
            conn.execute(
                loop_status.insert().values(loop=loop, holder=holder, rounds=rounds, **values)
            )

    def _decision(
        self,
        conn: sa.Connection,
        loop: str,
        holder: str,
        decision: Decision,
        now: datetime,
        rounds: int,
    ) -> None:
        subject = decision.subject[:300]
        newest = conn.execute(
            sa.select(loop_decisions.c.id, loop_decisions.c.outcome, loop_decisions.c.key)
            .where(
                loop_decisions.c.loop == loop,
                loop_decisions.c.subject == subject,
                loop_decisions.c.holder == holder,
            )
            .order_by(loop_decisions.c.id.desc())
            .limit(1)
        ).first()
        if newest is not None and (newest.outcome, newest.key) == (
            decision.outcome,
            decision.same_as,
        ):
            conn.execute(
                loop_decisions.update()
                .where(loop_decisions.c.id == newest.id)
                .values(last_at=now, count=loop_decisions.c.count + rounds, reason=decision.reason)
            )
            return
        conn.execute(
            loop_decisions.insert().values(
                loop=loop,
                subject=subject,
                outcome=decision.outcome,
                reason=decision.reason,
                key=decision.same_as,
                holder=holder,
                first_at=now,
                last_at=now,
                count=rounds,
            )
        )

    def statuses(self, loop: str | None = None) -> list[LoopStatus]:
        """Every loop in every process that ran it, by loop, newest round first."""
        query = sa.select(loop_status).order_by(
            loop_status.c.loop, loop_status.c.last_round_at.desc()
        )
        if loop is not None:
            query = query.where(loop_status.c.loop == loop)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            LoopStatus(
                loop=r.loop,
                holder=r.holder,
                interval_seconds=r.interval_seconds,
                state=r.state,
                rounds=r.rounds,
                last_round_at=aware(r.last_round_at),
                last_seconds=r.last_seconds,
                last_error=r.last_error,
            )
            for r in rows
        ]

    def decisions(
        self,
        *,
        loop: str | None = None,
        subject: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
    ) -> list[LoopDecision]:
        """Recorded decisions, the most recently repeated first."""
        query = (
            sa.select(loop_decisions)
            .order_by(loop_decisions.c.last_at.desc(), loop_decisions.c.id.desc())
            .limit(limit)
        )
        if loop is not None:
            query = query.where(loop_decisions.c.loop == loop)
        if subject is not None:
            query = query.where(loop_decisions.c.subject == subject)
        if outcome is not None:
            query = query.where(loop_decisions.c.outcome == outcome)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        found = []
        for row in rows:
            values = {k: v for k, v in row._mapping.items() if k != "key"}
            values.update(first_at=aware(row.first_at), last_at=aware(row.last_at))
            found.append(LoopDecision(**values))
        return found
