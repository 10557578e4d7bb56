"""batch runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("partition", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("release_id", sa.Integer, nullable=False),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("rows_in", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_out", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_rejected", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("resumed_chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("instance_id", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_batch_runs"),
    )
    op.create_index("ix_batch_runs_deployment_partition", "batch_runs", ["deployment", "partition"])


def downgrade() -> None:
    op.drop_table("batch_runs")
