"""NGSI-LD subscriptions and their delivery record

Revision ID: 0004n
Revises: 0003
Create Date: 2026-12-04 16:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004n"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ngsild_subscriptions",
        sa.Column("id", sa.String(length=256), nullable=False, comment="the subscription's URI"),
        sa.Column("tenant", sa.String(length=64), nullable=True, comment="the NGSILD-Tenant it was made in"),
        sa.Column(
            "owner", sa.String(length=100), nullable=False, comment="who made it (the audit log's actor)"
        ),
        sa.Column(
            "body", sa.JSON(), nullable=False, comment="the subscription in its normalized, expanded form"
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.Column("times_sent", sa.Integer(), nullable=False),
        sa.Column("times_failed", sa.Integer(), nullable=False),
        sa.Column("last_notification_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_success_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_failure_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_failure", sa.Text(), nullable=True, comment="why the last delivery failed"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ngsild_subscriptions")
