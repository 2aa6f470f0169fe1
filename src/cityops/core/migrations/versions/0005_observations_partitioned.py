"""Raw observations partitioned by day on PostgreSQL (nothing changes on SQLite).

Revision ID: 0005
Revises: 0004n
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.core.observation_partitions import DAY_MS, PARTITIONED_TABLE, create_partitions, days_ahead
from cityops.core.schema import VIETNAM_OFFSET_MS

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004n"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE observations RENAME TO observations_unpartitioned")
    op.execute("ALTER INDEX observations_pkey RENAME TO observations_unpartitioned_pkey")
    op.execute(PARTITIONED_TABLE)
    day = f"ts_ms - (ts_ms + {VIETNAM_OFFSET_MS}) % {DAY_MS}"
    days = set(bind.execute(sa.text(f"SELECT DISTINCT {day} FROM observations_unpartitioned")).scalars())
    create_partitions(bind, days | set(days_ahead(int(time.time() * 1000))))
    op.execute(
        "INSERT INTO observations SELECT entity_id, metric_id, ts_ms, value FROM observations_unpartitioned"
    )
    op.execute("DROP TABLE observations_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE observations RENAME TO observations_partitioned")
    op.execute("ALTER INDEX observations_pkey RENAME TO observations_partitioned_pkey")
    op.execute(
        "CREATE TABLE observations (entity_id integer NOT NULL, metric_id integer NOT NULL,"
        " ts_ms bigint NOT NULL, value double precision NOT NULL, PRIMARY KEY (entity_id, metric_id, ts_ms))"
    )
    op.execute("INSERT INTO observations SELECT * FROM observations_partitioned")
    op.execute("DROP TABLE observations_partitioned CASCADE")
