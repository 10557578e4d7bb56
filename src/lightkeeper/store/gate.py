"""Gate runs and their sign-offs (accept / override), both append-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.clock import Clock
from lightkeeper.errors import GateNotAccepted, GateRunNotFound
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import gate_runs, gate_signoffs


@dataclass(frozen=True)
class Signoff:
    """An operator's decision on a gate run."""

    id: int
    gate_run_id: int
    model: str
    version: int
    decision: str  # accepted | overridden
    actor: str
    role: str
    reason: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "gate_run_id": self.gate_run_id,
            "model": self.model,
            "version": self.version,
            "decision": self.decision,
            "actor": self.actor,
            "role": self.role,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class GateRun:
    """One evaluation of one version: the stored result and its sign-off, if any."""

    id: int
    model: str
    version: int
    verdict: str  # passed | failed
    gold_name: str | None
    gold_version: int | None
    triggered_by: str
    started_at: datetime
    finished_at: datetime
    report_path: str | None
    result: dict[str, Any]
    signoff: Signoff | None = None

    def to_dict(self) -> dict[str, Any]:
        """The full JSON twin of the report, with the sign-off."""
        return {
            **self.result,
            "id": self.id,
            "verdict": self.verdict,
            "report_path": self.report_path,
            "signoff": self.signoff.to_dict() if self.signoff else None,
        }

    def compared_with(self, deployment: str, champion: int) -> bool:
        """Whether this run compared its version with ``champion`` as ``deployment``'s champion.

        True when the run's non-inferiority interval against that version was computed
        (whatever its outcome) while it was the deployment's champion; false for a run
        that was meant for another deployment, saw another champion there, could not score
        the champion, or had no comparison in its policy.
        """
        for entry in self.result.get("champions") or []:
            if (
                entry.get("version") == champion
                and deployment in (entry.get("deployments") or [])
                and entry.get("compared") is True
            ):
                return True
        return False


class GateStore:
    """Persist gate runs and sign-offs."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def add_run(
        self,
        *,
        model: str,
        version: int,
        verdict: str,
        gold_name: str | None,
        gold_version: int | None,
        triggered_by: str,
        started_at: datetime,
        result: dict[str, Any],
    ) -> int:
        """Record a finished gate run; returns its id."""
        with self._db.write() as conn:
            inserted = conn.execute(
                gate_runs.insert().values(
                    model=model,
                    version=version,
                    verdict=verdict,
                    gold_name=gold_name,
                    gold_version=gold_version,
                    triggered_by=triggered_by,
                    started_at=started_at,
                    finished_at=self._clock.now(),
                    result=result,
                )
            )
            key = inserted.inserted_primary_key
            assert key is not None
            return int(key[0])

    def set_report(self, run_id: int, path: str, result: dict[str, Any]) -> None:
        """Attach the written report (and the final JSON twin) to a run."""
        with self._db.write() as conn:
            conn.execute(
                gate_runs.update()
                .where(gate_runs.c.id == run_id)
                .values(report_path=path, result=result)
            )

    def get(self, run_id: int) -> GateRun:
        """One run by id."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(gate_runs).where(gate_runs.c.id == run_id)).first()
            if row is None:
                raise GateRunNotFound(
                    f"no gate run with id {run_id}", hint="lightkeeper gate show MODEL"
                )
            return self._run(conn, row._mapping)

    def latest(self, model: str, version: int) -> GateRun:
        """The newest run of a version."""
        runs = self.list(model=model, version=version, limit=1)
        if not runs:
            raise GateRunNotFound(
                f"{model} version {version} has no gate run",
                hint=f"run the gate with: lightkeeper gate run {model} {version}",
            )
        return runs[0]

    def accepted(self, model: str, version: int) -> Signoff:
        """The sign-off that allows a version into production, or :class:`GateNotAccepted`.

        Only the newest gate run counts: a later failed run (say, on a corrected gold set)
        withdraws an earlier acceptance until it is accepted or overridden in turn.
        """
        hint = (
            f"run `lightkeeper gate run {model} {version}`, then an operator runs "
            f"`lightkeeper gate accept {model} {version}`"
        )
        try:
            latest = self.latest(model, version)
        except GateRunNotFound:
            raise GateNotAccepted(f"{model} version {version} has no gate run", hint=hint) from None
        if latest.signoff is None:
            raise GateNotAccepted(
                f"the newest gate run ({latest.id}, {latest.verdict}) of {model} version "
                f"{version} is not accepted",
                hint=hint,
            )
        return latest.signoff

    def list(
        self, *, model: str | None = None, version: int | None = None, limit: int = 50
    ) -> list[GateRun]:
        """Runs, newest first."""
        query = sa.select(gate_runs).order_by(gate_runs.c.id.desc()).limit(limit)
        if model is not None:
            query = query.where(gate_runs.c.model == model)
        if version is not None:
            query = query.where(gate_runs.c.version == version)
        with self._db.read() as conn:
            return [self._run(conn, r._mapping) for r in conn.execute(query).all()]

    def add_signoff(
        self, run: GateRun, *, decision: str, actor: str, role: str, reason: str
    ) -> Signoff:
        """Record an accept or override of a run."""
        with self._db.write() as conn:
            conn.execute(
                gate_signoffs.insert().values(
                    gate_run_id=run.id,
                    model=run.model,
                    version=run.version,
                    decision=decision,
                    actor=actor,
                    role=role,
                    reason=reason,
                    at=self._clock.now(),
                )
            )
        signoff = self.get(run.id).signoff
        assert signoff is not None
        return signoff

    def signoff_for(self, model: str, version: int) -> Signoff | None:
        """The newest sign-off of any gate run of this version, if any."""
        query = (
            sa.select(gate_signoffs)
            .where(gate_signoffs.c.model == model, gate_signoffs.c.version == version)
            .order_by(gate_signoffs.c.id.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return _signoff(row._mapping) if row else None

    def _run(self, conn: sa.Connection, row: Any) -> GateRun:
        signoff_row = conn.execute(
            sa.select(gate_signoffs)
            .where(gate_signoffs.c.gate_run_id == row["id"])
            .order_by(gate_signoffs.c.id.desc())
            .limit(1)
        ).first()
        return GateRun(
            id=row["id"],
            model=row["model"],
            version=row["version"],
            verdict=row["verdict"],
            gold_name=row["gold_name"],
            gold_version=row["gold_version"],
            triggered_by=row["triggered_by"],
            started_at=aware(row["started_at"]),
            finished_at=aware(row["finished_at"]),
            report_path=row["report_path"],
            result=row["result"],
            signoff=_signoff(signoff_row._mapping) if signoff_row else None,
        )


def _signoff(row: Any) -> Signoff:
    return Signoff(
        id=row["id"],
        gate_run_id=row["gate_run_id"],
        model=row["model"],
        version=row["version"],
        decision=row["decision"],
        actor=row["actor"],
        role=row["role"],
        reason=row["reason"],
        at=aware(row["at"]),
    )
