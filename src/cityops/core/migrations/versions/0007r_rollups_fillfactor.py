"""PostgreSQL: `rollups` and `latest` pages left half empty, so the upsert of every batch updates a row
in place on its own page (a HOT update: no new index entry), and pruning there reclaims the old versions
without waiting for vacuum. Halves the cost of the rollup upsert (benchmarks/store.py). SQLite has no
such setting.

Revision ID: 0007r
Revises: 0006b
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007r"
down_revision: str | Sequence[str] | None = "0006b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 50


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("rollups", "latest"):
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("rollups", "latest"):
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
