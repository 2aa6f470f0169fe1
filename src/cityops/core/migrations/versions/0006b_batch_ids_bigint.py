"""Batch ids as 64-bit integers on PostgreSQL: a cluster's API servers give batches ids up to 2^53
(`cityops.backends.jetstream.new_batch_id`). SQLite's INTEGER is 64-bit already.

Revision ID: 0006b
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006b"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("batches", "id", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("batches", "id", type_=sa.Integer(), existing_type=sa.BigInteger())
