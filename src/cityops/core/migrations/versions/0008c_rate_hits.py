"""Rate-limit counts in the store, shared by every server of a cluster (login and report-submission
limits, `cityops.core.access.rate_counts`).

Revision ID: 0008c
Revises: 0007r
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008c"
down_revision: str | Sequence[str] | None = "0007r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_hits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rate_hits_key_ts", "rate_hits", ["key", "ts_ms"])
    op.create_index("ix_rate_hits_expires", "rate_hits", ["expires_ms"])


def downgrade() -> None:
    op.drop_table("rate_hits")
