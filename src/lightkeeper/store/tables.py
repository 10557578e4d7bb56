"""Tables of the ops database (SQLAlchemy Core). Migrations in ``migrations/`` match these."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Index("ix_audit_events_at", "at"),
    sa.Index("ix_audit_events_kind", "kind"),
    sa.Index("ix_audit_events_subject", "subject"),
)
