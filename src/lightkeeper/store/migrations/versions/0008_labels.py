"""labels: outcomes joined to predictions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("prediction_id", sa.BigInteger, nullable=False),
        sa.Column("predicted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("output", sa.JSON),
        sa.Column("label", sa.JSON, nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_labels"),
    )
    op.create_index("ux_labels_prediction", "labels", ["deployment", "prediction_id"], unique=True)
    op.create_index("ix_labels_window", "labels", ["deployment", "predicted_at"])


def downgrade() -> None:
    op.drop_table("labels")
