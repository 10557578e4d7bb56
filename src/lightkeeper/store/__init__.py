"""The ops database: desired state, releases, logs, alarms and the audit trail.

One store per aggregate, each a small class over the shared :class:`Database`;
:class:`Stores` opens all of them on one database for the composition root. Prediction
logs are files (:mod:`lightkeeper.logstore`); their index is :mod:`.logfiles`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lightkeeper.clock import Clock
from lightkeeper.store.alarms import AlarmStore
from lightkeeper.store.audit import AuditEntry, AuditStore
from lightkeeper.store.batch import BatchRunStore
from lightkeeper.store.db import Database
from lightkeeper.store.deploy import DeployStore
from lightkeeper.store.gate import GateStore
from lightkeeper.store.gold import GoldStore
from lightkeeper.store.labels import LabelStore
from lightkeeper.store.leases import LeaseStore
from lightkeeper.store.loops import LoopStore
from lightkeeper.store.monitors import MonitorStore
from lightkeeper.store.signals import SignalStore
from lightkeeper.store.tokens import TokenStore

__all__ = ["AuditEntry", "AuditStore", "Database", "Stores", "migrate"]


def migrate(db: Database, clock: Clock, *, actor: str) -> tuple[str | None, str]:
    """Migrate ``db`` to the newest schema; returns (from_revision, to_revision). A change
    of schema is an audit entry by ``actor``."""
    from lightkeeper.events import DatabaseUpgraded

    before, after = db.upgrade()
    if before != after:
        upgraded = DatabaseUpgraded(actor=actor, from_revision=before, to_revision=after)
        AuditStore(db, clock).append(upgraded)
    return before, after


@dataclass(frozen=True)
class Stores:
    """Every store of one ops database."""

    audit: AuditStore
    alarms: AlarmStore
    batch_runs: BatchRunStore
    deployments: DeployStore
    gates: GateStore
    gold: GoldStore
    labels: LabelStore
    leases: LeaseStore
    loops: LoopStore
    monitors: MonitorStore
    signals: SignalStore
    tokens: TokenStore

    @classmethod
    def open(cls, db: Database, clock: Clock) -> Stores:
        """The stores on ``db`` (opening them costs nothing: each connects on use)."""
        return cls(
            audit=AuditStore(db, clock),
            alarms=AlarmStore(db, clock),
            batch_runs=BatchRunStore(db, clock),
            deployments=DeployStore(db, clock),
            gates=GateStore(db, clock),
            gold=GoldStore(db, clock),
            labels=LabelStore(db, clock),
            leases=LeaseStore(db, clock),
            loops=LoopStore(db, clock),
            monitors=MonitorStore(db, clock),
            signals=SignalStore(db),
            tokens=TokenStore(db, clock),
        )
