"""The observation store: raw points plus minute/hour/day rollups kept up to date in the same
transaction, so a dashboard reads rollups and never scans raw rows.

Each batch is one transaction: it is stored whole or not at all. A point re-sent with the same entity,
metric and time (an at-least-once sender retrying) is ignored, and does not count twice in rollups.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, Table, insert, select

from cityops.core.ingest import MAX_MAGNITUDE, PointBatch
from cityops.core.observation_partitions import DAY_MS, create_partitions, days_ahead, partition_days
from cityops.core.schema import GRAIN_MS, VIETNAM_OFFSET_MS, batches, latest, observations, rollups
from cityops.core.store import write_transaction

Int64s = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class StoredBatch:
    batch_id: int
    received_ms: int
    accepted: int
    duplicates: int
    # Newest point of each series in the batch: (entity_id, metric_id, ts_ms, value)
    newest: list[tuple[int, int, int, float]]


@dataclass(frozen=True, slots=True)
class _Columns:
    entity: Int64s
    metric: Int64s
    ts: Int64s
    value: NDArray[np.float64]

    @classmethod
    def sorted_from(cls, batch: PointBatch) -> _Columns:
        entity = np.asarray(batch.entity_ids, dtype=np.int64)
        metric = np.asarray(batch.metric_ids, dtype=np.int64)
        ts = np.asarray(batch.ts_ms, dtype=np.int64)
        value = np.asarray(batch.values, dtype=np.float64)
        order = np.lexsort((ts, metric, entity))
        return cls(entity[order], metric[order], ts[order], value[order])

    def rows(self) -> list[tuple[int, int, int, float]]:
        return list(
            zip(
                self.entity.tolist(), self.metric.tolist(), self.ts.tolist(), self.value.tolist(), strict=True
            )
        )

    def group_ends(self, bucket: Int64s | None) -> Int64s:
        """Index one past the end of each run of equal (entity, metric[, bucket])."""
        change = (self.entity[1:] != self.entity[:-1]) | (self.metric[1:] != self.metric[:-1])
        if bucket is not None:
            change |= bucket[1:] != bucket[:-1]
        return np.append(np.flatnonzero(change) + 1, len(self.ts)).astype(np.int64)


def bucket_start(ts: Int64s, grain: str) -> Int64s:
    size = GRAIN_MS[grain]
    offset = VIETNAM_OFFSET_MS if grain == "d" else 0
    result: Int64s = ts - (ts + offset) % size
    return result


class ObservationStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        # SQLite has one writer at a time; queueing in Python avoids busy-waiting in the driver.
        self._write_lock = threading.Lock()
        # Days known to have a partition (PostgreSQL).
        self._partition_days: set[int] = set()

    def write(self, batch: PointBatch, source: str, batch_id: int | None = None) -> StoredBatch:
        """Store a batch; with `batch_id` (given by a queue), a batch already stored under that id is not
        stored again (accepted 0, all duplicates).
        ValueError, and nothing stored, if a value is not a number within ±MAX_MAGNITUDE (what
        `validate_points` lets through), so no rollup sum can overflow."""
        values = np.asarray(batch.values, dtype=np.float64)
        if not np.all(np.abs(values) <= MAX_MAGNITUDE):
            raise ValueError(
                f"value: every value must be a number between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}"
            )
        if self._dialect == "postgresql":
            return self._write_postgresql(batch, source, batch_id)
        received_ms = int(time.time() * 1000)
        with self._write_lock, write_transaction(self._engine) as conn:
            if batch_id is not None:
                done = conn.execute(select(batches.c.received_ms).where(batches.c.id == batch_id)).first()
                if done is not None:
                    return StoredBatch(batch_id, int(done.received_ms), 0, len(batch), [])
            accepted, columns = self._insert_raw(conn, batch)
            given_id = {} if batch_id is None else {"id": batch_id}
            result = conn.execute(
                insert(batches).values(
                    received_ms=received_ms, source=source, points=len(accepted), **given_id
                )
            )
            batch_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            newest = self._update_rollups(conn, columns) if len(accepted) else []
        return StoredBatch(batch_id, received_ms, len(accepted), len(batch) - len(accepted), newest)

    def _insert_raw(self, conn: Connection, batch: PointBatch) -> tuple[PointBatch, _Columns]:
        """Store the points not stored yet; returns them, also as columns in primary-key order."""
        columns = _Columns.sorted_from(batch)
        # Rows in primary-key order land on neighbouring B-tree pages.
        rows = columns.rows()
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        before = conn.connection.driver_connection.total_changes  # type: ignore[union-attr]
        cursor.execute("SAVEPOINT raw_points")
        cursor.executemany(
            "INSERT OR IGNORE INTO observations (entity_id, metric_id, ts_ms, value) VALUES (?,?,?,?)", rows
        )
        inserted = conn.connection.driver_connection.total_changes - before  # type: ignore[union-attr]
        if inserted == len(rows):
            cursor.execute("RELEASE raw_points")
            return batch, columns
        cursor.execute("ROLLBACK TO raw_points")
        cursor.execute("RELEASE raw_points")
        fresh = self._without_duplicates(conn, batch)
        columns = _Columns.sorted_from(fresh)
        cursor.executemany(
            "INSERT INTO observations (entity_id, metric_id, ts_ms, value) VALUES (?,?,?,?)", columns.rows()
        )
        return fresh, columns

    def _write_postgresql(self, batch: PointBatch, source: str, batch_id: int | None) -> StoredBatch:
        """COPY the batch into a scratch table, then let the database keep the new points and fold them
        into the rollups. No write lock: concurrent batches upsert rollup rows in key order, and one
        stored twice at once loses on the primary key."""
        received_ms = int(time.time() * 1000)
        self._ensure_partitions(batch)
        with self._engine.begin() as conn:
            if batch_id is not None:
                done = conn.execute(select(batches.c.received_ms).where(batches.c.id == batch_id)).first()
                if done is not None:
                    return StoredBatch(batch_id, int(done.received_ms), 0, len(batch), [])
            dbapi = conn.connection
            cursor = dbapi.driver_connection.cursor()  # type: ignore[union-attr]
            if not dbapi.info.get("observation_scratch"):
                for statement in POSTGRESQL_SCRATCH:
                    cursor.execute(statement)
                dbapi.info["observation_scratch"] = True
            with cursor.copy(POSTGRESQL_COPY) as copy:
                copy.set_types(["int4", "int4", "int4", "int8", "float8"])
                for row in zip(
                    range(len(batch)),
                    batch.entity_ids,
                    batch.metric_ids,
                    batch.ts_ms,
                    batch.values,
                    strict=True,
                ):
                    copy.write_row(row)
            cursor.execute(POSTGRESQL_KEEP_NEW)
            accepted = cursor.rowcount
            newest: list[tuple[int, int, int, float]] = []
            if accepted:
                cursor.execute(POSTGRESQL_ROLLUPS)
                newest = [tuple(row) for row in cursor.execute(POSTGRESQL_LATEST)]
            given_id = {} if batch_id is None else {"id": batch_id}
            result = conn.execute(
                insert(batches).values(received_ms=received_ms, source=source, points=accepted, **given_id)
            )
            batch_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return StoredBatch(batch_id, received_ms, accepted, len(batch) - accepted, newest)

    def _ensure_partitions(self, batch: PointBatch) -> None:
        ts = np.asarray(batch.ts_ms, dtype=np.int64)
        days = set(np.unique(ts - (ts + VIETNAM_OFFSET_MS) % DAY_MS).tolist())
        if days <= self._partition_days:
            return
        with self._engine.begin() as conn:
            create_partitions(conn, days | set(days_ahead(int(time.time() * 1000))))
            self._partition_days = partition_days(conn)

    def _without_duplicates(self, conn: Connection, batch: PointBatch) -> PointBatch:
        """First occurrence wins, within the batch and against what is already stored."""
        keys = set(zip(batch.entity_ids, batch.metric_ids, batch.ts_ms, strict=True))
        query = select(observations.c.entity_id, observations.c.metric_id, observations.c.ts_ms).where(
            observations.c.entity_id.in_(set(batch.entity_ids)),
            observations.c.ts_ms.between(min(batch.ts_ms), max(batch.ts_ms)),
        )
        seen = {key for key in map(tuple, conn.execute(query)) if key in keys}
        fresh = PointBatch(entities=batch.entities)
        for e, m, t, v in zip(batch.entity_ids, batch.metric_ids, batch.ts_ms, batch.values, strict=True):
            if (e, m, t) in seen:
                continue
            seen.add((e, m, t))
            fresh.entity_ids.append(e)
            fresh.metric_ids.append(m)
            fresh.ts_ms.append(t)
            fresh.values.append(v)
        return fresh

    def _update_rollups(self, conn: Connection, c: _Columns) -> list[tuple[int, int, int, float]]:
        for grain in GRAIN_MS:
            bucket = bucket_start(c.ts, grain)
            ends = c.group_ends(bucket)
            starts = np.concatenate(([0], ends[:-1]))
            last = ends - 1
            rows = list(
                zip(
                    [grain] * len(starts),
                    c.entity[starts].tolist(),
                    c.metric[starts].tolist(),
                    bucket[starts].tolist(),
                    (ends - starts).tolist(),
                    np.add.reduceat(c.value, starts).tolist(),
                    np.minimum.reduceat(c.value, starts).tolist(),
                    np.maximum.reduceat(c.value, starts).tolist(),
                    c.ts[last].tolist(),
                    c.value[last].tolist(),
                    strict=True,
                )
            )
            self._upsert(conn, rollups, ROLLUP_COLUMNS, rows)
        ends = c.group_ends(None)
        newest = list(
            zip(
                c.entity[ends - 1].tolist(),
                c.metric[ends - 1].tolist(),
                c.ts[ends - 1].tolist(),
                c.value[ends - 1].tolist(),
                strict=True,
            )
        )
        self._upsert(conn, latest, LATEST_COLUMNS, newest)
        return newest

    def _upsert(
        self, conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """Merge aggregated rows into `rollups` or `latest` (sums add up, extremes and newest values win)."""
        # The driver's executemany with tuples: SQLAlchemy's per-row parameter processing would cost
        # more than the statement itself at 100,000 points/s.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(SQLITE_UPSERT[table.name], rows)


ROLLUP_COLUMNS = (
    "grain",
    "entity_id",
    "metric_id",
    "bucket_ms",
    "count",
    "sum",
    "min",
    "max",
    "last_ts_ms",
    "last",
)
LATEST_COLUMNS = ("entity_id", "metric_id", "ts_ms", "value")
# In SQLite's upsert, unqualified columns on the right-hand side are the stored row's values.
SQLITE_UPSERT = {
    "rollups": (
        f"INSERT INTO rollups ({', '.join(ROLLUP_COLUMNS)}) VALUES ({', '.join('?' * len(ROLLUP_COLUMNS))})"
        " ON CONFLICT (grain, entity_id, metric_id, bucket_ms) DO UPDATE SET"
        " count = count + excluded.count, sum = sum + excluded.sum,"
        " min = min(min, excluded.min), max = max(max, excluded.max),"
        " last = CASE WHEN excluded.last_ts_ms >= last_ts_ms THEN excluded.last ELSE last END,"
        " last_ts_ms = max(last_ts_ms, excluded.last_ts_ms)"
    ),
    "latest": (
        "INSERT INTO latest (entity_id, metric_id, ts_ms, value) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (entity_id, metric_id) DO UPDATE SET"
        " value = CASE WHEN excluded.ts_ms >= ts_ms THEN excluded.value ELSE value END,"
        " ts_ms = max(ts_ms, excluded.ts_ms)"
    ),
}

# PostgreSQL: per-connection scratch tables, emptied by every commit.
POSTGRESQL_SCRATCH = (
    "CREATE TEMP TABLE incoming_points (ord int4, entity_id int4, metric_id int4, ts_ms int8, value float8)"
    " ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE new_points (entity_id int4, metric_id int4, ts_ms int8, value float8)"
    " ON COMMIT DELETE ROWS",
)
POSTGRESQL_COPY = "COPY incoming_points (ord, entity_id, metric_id, ts_ms, value) FROM STDIN (FORMAT BINARY)"
# First occurrence wins, within the batch (DISTINCT ON by arrival order) and against the stored points
# (ON CONFLICT DO NOTHING); the points kept are what the rollups count.
POSTGRESQL_KEEP_NEW = """
WITH kept AS (
    INSERT INTO observations (entity_id, metric_id, ts_ms, value)
    SELECT DISTINCT ON (entity_id, metric_id, ts_ms) entity_id, metric_id, ts_ms, value
    FROM incoming_points ORDER BY entity_id, metric_id, ts_ms, ord
    ON CONFLICT DO NOTHING
    RETURNING entity_id, metric_id, ts_ms, value
)
INSERT INTO new_points SELECT * FROM kept
"""
_GRAINS = ", ".join(
    f"('{grain}', {size}::int8, {VIETNAM_OFFSET_MS if grain == 'd' else 0}::int8)"
    for grain, size in GRAIN_MS.items()
)
POSTGRESQL_ROLLUPS = f"""
INSERT INTO rollups ({", ".join(ROLLUP_COLUMNS)})
SELECT g.grain, p.entity_id, p.metric_id, p.ts_ms - (p.ts_ms + g.offset_ms) % g.size_ms,
    count(*), sum(p.value), min(p.value), max(p.value), max(p.ts_ms),
    (array_agg(p.value ORDER BY p.ts_ms DESC))[1]
FROM new_points p CROSS JOIN (VALUES {_GRAINS}) AS g (grain, size_ms, offset_ms)
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (grain, entity_id, metric_id, bucket_ms) DO UPDATE SET
    count = rollups.count + excluded.count, sum = rollups.sum + excluded.sum,
    min = least(rollups.min, excluded.min), max = greatest(rollups.max, excluded.max),
    last = CASE WHEN excluded.last_ts_ms >= rollups.last_ts_ms THEN excluded.last ELSE rollups.last END,
    last_ts_ms = greatest(rollups.last_ts_ms, excluded.last_ts_ms)
"""
# The batch's newest point of each series, merged into `latest` and returned.
POSTGRESQL_LATEST = """
WITH newest AS (
    SELECT DISTINCT ON (entity_id, metric_id) entity_id, metric_id, ts_ms, value
    FROM new_points ORDER BY entity_id, metric_id, ts_ms DESC
), merged AS (
    INSERT INTO latest (entity_id, metric_id, ts_ms, value) SELECT * FROM newest
    ON CONFLICT (entity_id, metric_id) DO UPDATE SET
        value = CASE WHEN excluded.ts_ms >= latest.ts_ms THEN excluded.value ELSE latest.value END,
        ts_ms = greatest(latest.ts_ms, excluded.ts_ms)
)
SELECT * FROM newest ORDER BY entity_id, metric_id
"""


@dataclass(frozen=True, slots=True)
class RollupRow:
    bucket_ms: int
    count: int
    sum: float
    min: float
    max: float
    last: float

    @property
    def mean(self) -> float:
        return self.sum / self.count


def read_rollups(
    conn: Connection, entity_id: int, metric_id: int, grain: str, start_ms: int, end_ms: int
) -> list[RollupRow]:
    """Buckets of one series with start in [start_ms, end_ms), oldest first."""
    if grain not in GRAIN_MS:
        raise ValueError(f"grain must be one of {sorted(GRAIN_MS)}")
    t = rollups.c
    query = (
        select(t.bucket_ms, t.count, t.sum, t.min, t.max, t.last)
        .where(
            t.grain == grain,
            t.entity_id == entity_id,
            t.metric_id == metric_id,
            t.bucket_ms >= start_ms,
            t.bucket_ms < end_ms,
        )
        .order_by(t.bucket_ms)
    )
    return [RollupRow(*row) for row in conn.execute(query)]


def read_latest(conn: Connection) -> dict[int, dict[int, tuple[int, float]]]:
    """entity id -> metric id -> (ts_ms, value) of the newest point."""
    result: dict[int, dict[int, tuple[int, float]]] = {}
    for entity_id, metric_id, ts_ms, value in conn.execute(
        select(latest.c.entity_id, latest.c.metric_id, latest.c.ts_ms, latest.c.value)
    ):
        result.setdefault(entity_id, {})[metric_id] = (ts_ms, value)
    return result
