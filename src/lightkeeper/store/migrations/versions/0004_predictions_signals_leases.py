"""prediction logs, life signals, leases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("output", sa.JSON),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("flags", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_logs"),
    )
    op.create_index("ix_prediction_logs_deployment_at", "prediction_logs", ["deployment", "at"])
    op.create_index("ix_prediction_logs_request_id", "prediction_logs", ["request_id"])
    op.create_table(
        "life_signals",
        sa.Column("instance_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cadence_seconds", sa.Float, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name="pk_life_signals"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("life_signals")
    op.drop_table("prediction_logs")
