"""Raw observations on PostgreSQL: one partition per Vietnam civil day (declarative range partitioning on
`ts_ms`), created ahead of time and on demand, dropped whole by the retention. Rollups are never pruned.

On SQLite the table is not partitioned and the retention deletes the old rows instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, text

from cityops.core.schema import VIETNAM_OFFSET_MS, observations
from cityops.core.store import write_transaction

DAY_MS = 86_400_000
# Days created beyond today, so the day change never waits for DDL.
DAYS_AHEAD = 3
PREFIX = "observations_"
# Advisory lock held while partitions are created: two servers making the same one would collide.
PARTITION_LOCK_KEY = 0x6F62_7370

PARTITIONED_TABLE = """
CREATE TABLE observations (
    entity_id integer NOT NULL,
    metric_id integer NOT NULL,
    ts_ms bigint NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (entity_id, metric_id, ts_ms)
) PARTITION BY RANGE (ts_ms)
"""


def day_of(ts_ms: int) -> int:
    """Start (epoch ms) of the Vietnam civil day holding `ts_ms`."""
    return ts_ms - (ts_ms + VIETNAM_OFFSET_MS) % DAY_MS


def partition_name(day_ms: int) -> str:
    return PREFIX + datetime.fromtimestamp((day_ms + VIETNAM_OFFSET_MS) / 1000, UTC).strftime("%Y%m%d")


def day_of_partition(name: str) -> int:
    stamp = datetime.strptime(name.removeprefix(PREFIX), "%Y%m%d").replace(tzinfo=UTC)
    return int(stamp.timestamp() * 1000) - VIETNAM_OFFSET_MS


def not_a_partition(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's `include_name` hook: the day partitions are made at run time, not by migrations."""
    return not (
        type_ == "table" and name is not None and name.startswith(PREFIX) and name[len(PREFIX) :].isdigit()
    )


def partition_days(conn: Connection) -> set[int]:
    """The days that have a partition."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'observations'::regclass"
        )
    ).scalars()
    return {day_of_partition(name) for name in names}


def create_partitions(conn: Connection, days: Iterable[int]) -> None:
    """Make the partitions of `days` (day starts) that are missing; `conn` is in a transaction that
    commits soon, since it holds a lock on `observations` until then."""
    wanted = set(days)
    if not wanted:
        return
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})
    for day in sorted(wanted - partition_days(conn)):
        conn.execute(
            text(
                f"CREATE TABLE {partition_name(day)} PARTITION OF observations"
                f" FOR VALUES FROM ({day}) TO ({day + DAY_MS})"
            )
        )


def days_ahead(now_ms: int) -> list[int]:
    today = day_of(now_ms)
    return [today + n * DAY_MS for n in range(-1, DAYS_AHEAD + 1)]


def drop_raw_before(engine: Engine, cutoff_ms: int) -> int:
    """The retention: raw points of the days that end at or before `cutoff_ms` go (whole partitions on
    PostgreSQL, rows on SQLite); rollups and `latest` stay. Returns the number of partitions dropped, or
    of rows deleted on SQLite."""
    with write_transaction(engine) as conn:
        if engine.dialect.name != "postgresql":
            result = conn.execute(delete(observations).where(observations.c.ts_ms < day_of(cutoff_ms)))
            return int(result.rowcount)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})
        old = sorted(day for day in partition_days(conn) if day + DAY_MS <= cutoff_ms)
        for day in old:
            conn.execute(text(f"DROP TABLE {partition_name(day)}"))
        return len(old)
