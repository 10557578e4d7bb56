"""monitor results

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_results",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_results"),
    )
    op.create_index(
        "ix_monitor_results_window", "monitor_results", ["deployment", "kind", "window_end"]
    )
    op.create_index(
        "ux_monitor_results_window",
        "monitor_results",
        ["deployment", "kind", "window_start", "window_end"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("monitor_results")
