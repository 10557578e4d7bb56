"""prediction logs in columnar files: the index of the files

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.String(500), nullable=False, unique=True),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("min_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("batch_request", sa.String(100)),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_log_files_deployment_state_hour", "log_files", ["deployment", "state", "hour"]
    )


def downgrade() -> None:
    op.drop_table("log_files")
