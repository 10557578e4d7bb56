"""alarms and their deliveries

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("dedup_key", sa.String(400), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("when", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("version", sa.Integer),
        sa.Column("deployment", sa.String(200)),
        sa.Column("owner", sa.JSON, nullable=False),
        sa.Column("runbook", sa.JSON),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("sinks", sa.JSON, nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolution", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
    )
    op.create_index(
        "ux_alarms_unresolved",
        "alarms",
        ["dedup_key"],
        unique=True,
        sqlite_where=sa.text("state != 'resolved'"),
        postgresql_where=sa.text("state != 'resolved'"),
    )
    op.create_index("ix_alarms_state", "alarms", ["state", "last_at"])
    op.create_table(
        "alarm_deliveries",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("alarm_id", sa.Integer, nullable=False),
        sa.Column("message", sa.String(20), nullable=False),
        sa.Column("sink", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("receipt", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_deliveries"),
    )
    op.create_index("ix_alarm_deliveries_due", "alarm_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_alarm_deliveries_alarm", "alarm_deliveries", ["alarm_id"])


def downgrade() -> None:
    op.drop_table("alarm_deliveries")
    op.drop_table("alarms")
