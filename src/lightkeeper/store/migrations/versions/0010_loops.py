"""control-plane loops: status per loop and process, and their recorded decisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loop_status",
        sa.Column("loop", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(200), primary_key=True),
        sa.Column("interval_seconds", sa.Float, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("last_round_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seconds", sa.Float, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_table(
        "loop_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("loop", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_loop_decisions_loop_subject", "loop_decisions", ["loop", "subject", "holder", "id"]
    )
    op.create_index("ix_loop_decisions_last_at", "loop_decisions", ["last_at"])


def downgrade() -> None:
    op.drop_table("loop_decisions")
    op.drop_table("loop_status")
