"""The ops database: desired state, releases, logs, alarms and the audit trail."""

from lightkeeper.store.audit import AuditEntry, AuditStore
from lightkeeper.store.db import Database

__all__ = ["AuditEntry", "AuditStore", "Database"]
