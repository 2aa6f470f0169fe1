"""services: generation counter and index accumulator snapshot

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-23 11:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0002"
down_revision: str | Sequence[str] | None = "s0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    generation = op.create_table(
        "services_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0}])
    op.create_table(
        "services_index_snapshot",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "layout",
            sa.String(length=64),
            nullable=False,
            comment="format, period kinds and counters it was made with",
        ),
        sa.Column(
            "generation", sa.BigInteger(), nullable=False, comment="services_generation when it was taken"
        ),
        sa.Column("dossiers", sa.BigInteger(), nullable=False, comment="stored dossiers then"),
        sa.Column("last_id", sa.BigInteger(), nullable=False, comment="highest dossier id then"),
        sa.Column("state", sa.LargeBinary(), nullable=False, comment="zlib-compressed JSON"),
        sa.Column("saved_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("services_index_snapshot")
    op.drop_table("services_generation")
