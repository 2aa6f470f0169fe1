"""The observation store: raw points plus minute/hour/day rollups kept up to date in the same
transaction, so a dashboard reads rollups and never scans raw rows.

Each batch is one transaction: it is stored whole or not at all. A point re-sent with the same entity,
metric and time (an at-least-once sender retrying) is ignored, and does not count twice in rollups.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, insert, select

from cityops.core.binary_copy import encode_binary_copy
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

    @classmethod
    def joined(cls, parts: list[_Columns]) -> _Columns:
        """Several sets of points as one, in key order (equal keys in the order of `parts`)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, np.zeros(0, dtype=np.float64))
        entity, metric, ts = (
            np.concatenate([getattr(p, name) for p in parts]) for name in ("entity", "metric", "ts")
        )
        value = np.concatenate([p.value for p in parts])
        order = np.lexsort((ts, metric, entity))
        return cls(entity[order], metric[order], ts[order], value[order])

    def take(self, rows: Int64s) -> _Columns:
        return _Columns(self.entity[rows], self.metric[rows], self.ts[rows], self.value[rows])

    def rows(self) -> list[tuple[int, int, int, float]]:
        return list(
            zip(
                self.entity.tolist(), self.metric.tolist(), self.ts.tolist(), self.value.tolist(), strict=True
            )
        )

    def binary_copy(self, ordinal: bool = False) -> bytes:
        """COPY stream of (entity_id, metric_id, ts_ms, value), and with `ordinal` each row's place."""
        fields: list[tuple[str, NDArray[Any]]] = [
            ("int4", self.entity),
            ("int4", self.metric),
            ("int8", self.ts),
            ("float8", self.value),
        ]
        if ordinal:
            fields.append(("int4", np.arange(len(self.ts))))
        return encode_binary_copy(fields)

    def group_ends(self, bucket: Int64s | None) -> Int64s:
        """Index one past the end of each run of equal (entity, metric[, bucket])."""
        change = (self.entity[1:] != self.entity[:-1]) | (self.metric[1:] != self.metric[:-1])
        if bucket is not None:
            change |= bucket[1:] != bucket[:-1]
        return np.append(np.flatnonzero(change) + 1, len(self.ts)).astype(np.int64)

    def has_repeats(self) -> bool:
        """Whether a key (entity, metric, time) comes more than once."""
        same = (
            (self.entity[1:] == self.entity[:-1])
            & (self.metric[1:] == self.metric[:-1])
            & (self.ts[1:] == self.ts[:-1])
        )
        return bool(same.any())

    def rollups(self) -> list[tuple[str, _Aggregates]]:
        """Each grain's buckets of these points, in key order (entity, metric, bucket)."""
        result = []
        for grain in GRAIN_MS:
            bucket = bucket_start(self.ts, grain)
            ends = self.group_ends(bucket)
            starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
            last = ends - 1
            aggregates = _Aggregates(
                entity=self.entity[starts],
                metric=self.metric[starts],
                bucket=bucket[starts],
                count=ends - starts,
                sum=np.add.reduceat(self.value, starts),
                min=np.minimum.reduceat(self.value, starts),
                max=np.maximum.reduceat(self.value, starts),
                last_ts=self.ts[last],
                last=self.value[last],
            )
            result.append((grain, aggregates))
        return result

    def newest(self) -> _Columns:
        """The newest point of each series, in key order."""
        last = self.group_ends(None) - 1
        return _Columns(self.entity[last], self.metric[last], self.ts[last], self.value[last])


@dataclass(frozen=True, slots=True)
class _Aggregates:
    """One grain's buckets: count, sum, extremes and the newest point of each."""

    entity: Int64s
    metric: Int64s
    bucket: Int64s
    count: Int64s
    sum: NDArray[np.float64]
    min: NDArray[np.float64]
    max: NDArray[np.float64]
    last_ts: Int64s
    last: NDArray[np.float64]

    def rows(self, grain: str) -> list[tuple[Any, ...]]:
        columns = (self.entity, self.metric, self.bucket, self.count, self.sum, self.min, self.max)
        return list(
            zip(
                [grain] * len(self.entity),
                *(column.tolist() for column in columns),
                self.last_ts.tolist(),
                self.last.tolist(),
                strict=True,
            )
        )


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
        return self.write_many([(batch, source, batch_id)])[0]

    def write_many(self, queued: Sequence[tuple[PointBatch, str, int | None]]) -> list[StoredBatch]:
        """Store several (batch, source, batch id) in one transaction, as `write` stores one: all or
        none. The rollups and `latest` get one upsert for all of them, so a queue's backlog costs less
        a point than batches stored one by one (buckets shared by the batches are written once)."""
        for batch, _, _ in queued:
            values = np.asarray(batch.values, dtype=np.float64)
            if not np.all(np.abs(values) <= MAX_MAGNITUDE):
                raise ValueError(
                    f"value: every value must be a number between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}"
                )
        postgresql = self._dialect == "postgresql"
        if postgresql:
            self._ensure_partitions([batch for batch, _, _ in queued])
        received_ms = int(time.time() * 1000)
        stored: list[StoredBatch] = []
        kept_all: list[_Columns] = []
        # SQLite: one writer at a time, queued here rather than busy-waiting in the driver. PostgreSQL: no
        # write lock; concurrent writers upsert rows in key order, and a batch stored twice at once loses
        # on the primary key of `batches`.
        with (
            nullcontext() if postgresql else self._write_lock,
            self._engine.begin() if postgresql else write_transaction(self._engine) as conn,
        ):
            given = [batch_id for _, _, batch_id in queued if batch_id is not None]
            done: dict[int, int] = {}
            if given:
                query = select(batches.c.id, batches.c.received_ms).where(batches.c.id.in_(given))
                done.update((int(row.id), int(row.received_ms)) for row in conn.execute(query))
            for batch, source, batch_id in queued:
                if batch_id in done:
                    assert batch_id is not None
                    stored.append(StoredBatch(batch_id, int(done[batch_id]), 0, len(batch), []))
                    continue
                columns = _Columns.sorted_from(batch)
                kept = (
                    self._insert_raw_postgresql(conn, columns) if postgresql else _insert_raw(conn, columns)
                )
                given_id = {} if batch_id is None else {"id": batch_id}
                result = conn.execute(
                    insert(batches).values(
                        received_ms=received_ms, source=source, points=len(kept.ts), **given_id
                    )
                )
                new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                done[new_id] = received_ms
                newest = kept.newest().rows() if len(kept.ts) else []
                stored.append(
                    StoredBatch(new_id, received_ms, len(kept.ts), len(batch) - len(kept.ts), newest)
                )
                kept_all.append(kept)
            together = _Columns.joined(kept_all)
            if len(together.ts):
                if postgresql:
                    _update_rollups_postgresql(conn, together)
                else:
                    _update_rollups_sqlite(conn, together)
        return stored

    def _insert_raw_postgresql(self, conn: Connection, columns: _Columns) -> _Columns:
        """Store the points not stored yet (the first of a repeated key wins); returns them. Straight
        COPY into `observations` when no point is repeated; otherwise (or when one is found stored) COPY
        into a scratch table and keep only the new points."""
        cursor = _postgresql_cursor(conn)
        if not columns.has_repeats():
            cursor.execute("SAVEPOINT raw_points")
            try:
                _copy(cursor, POSTGRESQL_COPY_RAW, columns.binary_copy())
            except psycopg.errors.UniqueViolation:
                cursor.execute("ROLLBACK TO raw_points")
            else:
                cursor.execute("RELEASE raw_points")
                return columns
        # lexsort is stable, so a point's place in key order keeps the arrival order of a repeated key.
        _copy(cursor, POSTGRESQL_COPY_INCOMING, columns.binary_copy(ordinal=True))
        kept = cursor.execute(POSTGRESQL_KEEP_NEW).fetchall()
        fresh = PointBatch(
            entity_ids=[row[0] for row in kept],
            metric_ids=[row[1] for row in kept],
            ts_ms=[row[2] for row in kept],
            values=[row[3] for row in kept],
        )
        return _Columns.sorted_from(fresh)

    def _ensure_partitions(self, queued: list[PointBatch]) -> None:
        ts = np.concatenate([np.asarray(batch.ts_ms, dtype=np.int64) for batch in queued] + [[]]).astype(
            np.int64
        )
        days = set(np.unique(ts - (ts + VIETNAM_OFFSET_MS) % DAY_MS).tolist())
        if days <= self._partition_days:
            return
        with self._engine.begin() as conn:
            create_partitions(conn, days | set(days_ahead(int(time.time() * 1000))))
            self._partition_days = partition_days(conn)


def _insert_raw(conn: Connection, columns: _Columns) -> _Columns:
    """SQLite: store the points not stored yet (the first of a repeated key wins); returns them."""
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
        return columns
    cursor.execute("ROLLBACK TO raw_points")
    cursor.execute("RELEASE raw_points")
    fresh = _without_duplicates(conn, columns)
    cursor.executemany(
        "INSERT INTO observations (entity_id, metric_id, ts_ms, value) VALUES (?,?,?,?)", fresh.rows()
    )
    return fresh


def _without_duplicates(conn: Connection, columns: _Columns) -> _Columns:
    """First occurrence wins, within the batch and against what is already stored."""
    entity = columns.entity.tolist()
    metric = columns.metric.tolist()
    ts = columns.ts.tolist()
    keys = set(zip(entity, metric, ts, strict=True))
    query = select(observations.c.entity_id, observations.c.metric_id, observations.c.ts_ms).where(
        observations.c.entity_id.in_(set(entity)),
        observations.c.ts_ms.between(min(ts), max(ts)),
    )
    seen = {key for key in map(tuple, conn.execute(query)) if key in keys}
    # Key order with arrival order kept among equal keys (`sorted_from` sorts stably).
    fresh: list[int] = []
    for i, key in enumerate(zip(entity, metric, ts, strict=True)):
        if key not in seen:
            seen.add(key)
            fresh.append(i)
    return columns.take(np.asarray(fresh, dtype=np.int64))


def _update_rollups_sqlite(conn: Connection, c: _Columns) -> None:
    # The driver's executemany with tuples: SQLAlchemy's per-row parameter processing would cost
    # more than the statement itself at 100,000 points/s.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    for grain, aggregates in c.rollups():
        cursor.executemany(SQLITE_UPSERT["rollups"], aggregates.rows(grain))
    cursor.executemany(SQLITE_UPSERT["latest"], c.newest().rows())


def _update_rollups_postgresql(conn: Connection, c: _Columns) -> None:
    """One COPY of the aggregates numpy computed and one set-based upsert, for rollups and for `latest`."""
    cursor = _postgresql_cursor(conn)
    _copy(cursor, POSTGRESQL_COPY_ROLLUPS, _rollups_copy(c.rollups()))
    cursor.execute(POSTGRESQL_ROLLUPS)
    _copy(cursor, POSTGRESQL_COPY_LATEST, c.newest().binary_copy(ordinal=True))
    cursor.execute(POSTGRESQL_LATEST)


def _postgresql_cursor(conn: Connection) -> psycopg.Cursor[Any]:
    """A psycopg cursor on the connection, its scratch tables made on first use."""
    dbapi = conn.connection
    cursor: psycopg.Cursor[Any] = dbapi.driver_connection.cursor()  # type: ignore[union-attr]
    if not dbapi.info.get("observation_scratch"):
        for statement in POSTGRESQL_SCRATCH:
            cursor.execute(statement)
        dbapi.info["observation_scratch"] = True
    return cursor


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

# PostgreSQL: per-connection scratch tables, emptied by every commit. `ord` keeps the arrival order of a
# batch's points, and the key order of its aggregates (every writer upserts in that one order, so two
# never wait on each other in a cycle).
POSTGRESQL_SCRATCH = (
    "CREATE TEMP TABLE incoming_points (entity_id int4, metric_id int4, ts_ms int8, value float8, ord int4)"
    " ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE incoming_rollups (grain varchar(1), entity_id int4, metric_id int4, bucket_ms int8,"
    " count int4, sum float8, min float8, max float8, last_ts_ms int8, last float8,"
    " ord int4 GENERATED ALWAYS AS IDENTITY) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE incoming_latest (entity_id int4, metric_id int4, ts_ms int8, value float8,"
    " ord int4 GENERATED ALWAYS AS IDENTITY) ON COMMIT DELETE ROWS",
)
POSTGRESQL_COPY_RAW = "COPY observations (entity_id, metric_id, ts_ms, value) FROM STDIN (FORMAT BINARY)"
POSTGRESQL_COPY_INCOMING = (
    "COPY incoming_points (entity_id, metric_id, ts_ms, value, ord) FROM STDIN (FORMAT BINARY)"
)
POSTGRESQL_COPY_ROLLUPS = (
    f"COPY incoming_rollups ({', '.join(ROLLUP_COLUMNS)}, ord) FROM STDIN (FORMAT BINARY)"
)
POSTGRESQL_COPY_LATEST = (
    "COPY incoming_latest (entity_id, metric_id, ts_ms, value, ord) FROM STDIN (FORMAT BINARY)"
)
# First occurrence wins, within the batch (DISTINCT ON by arrival order) and against the stored points
# (ON CONFLICT DO NOTHING); the points kept are what the rollups count.
POSTGRESQL_KEEP_NEW = """
INSERT INTO observations (entity_id, metric_id, ts_ms, value)
SELECT DISTINCT ON (entity_id, metric_id, ts_ms) entity_id, metric_id, ts_ms, value
FROM incoming_points ORDER BY entity_id, metric_id, ts_ms, ord
ON CONFLICT DO NOTHING
RETURNING entity_id, metric_id, ts_ms, value
"""
POSTGRESQL_ROLLUPS = f"""
INSERT INTO rollups ({", ".join(ROLLUP_COLUMNS)})
SELECT {", ".join(ROLLUP_COLUMNS)} FROM incoming_rollups ORDER BY ord
ON CONFLICT (grain, entity_id, metric_id, bucket_ms) DO UPDATE SET
    count = rollups.count + excluded.count, sum = rollups.sum + excluded.sum,
    min = least(rollups.min, excluded.min), max = greatest(rollups.max, excluded.max),
    last = CASE WHEN excluded.last_ts_ms >= rollups.last_ts_ms THEN excluded.last ELSE rollups.last END,
    last_ts_ms = greatest(rollups.last_ts_ms, excluded.last_ts_ms)
"""
POSTGRESQL_LATEST = """
INSERT INTO latest (entity_id, metric_id, ts_ms, value)
SELECT entity_id, metric_id, ts_ms, value FROM incoming_latest ORDER BY ord
ON CONFLICT (entity_id, metric_id) DO UPDATE SET
    value = CASE WHEN excluded.ts_ms >= latest.ts_ms THEN excluded.value ELSE latest.value END,
    ts_ms = greatest(latest.ts_ms, excluded.ts_ms)
"""


def _copy(cursor: psycopg.Cursor[Any], statement: str, data: bytes) -> None:
    with cursor.copy(statement) as copy:
        copy.write(data)


def _rollups_copy(grains: list[tuple[str, _Aggregates]]) -> bytes:
    """The COPY stream of every grain's aggregates, numbered in the order given."""

    def joined(name: str) -> NDArray[Any]:
        return np.concatenate([getattr(aggregates, name) for _, aggregates in grains])

    grain = np.concatenate([np.full(len(a.entity), g, dtype="S1") for g, a in grains])
    return encode_binary_copy(
        [
            ("char1", grain),
            ("int4", joined("entity")),
            ("int4", joined("metric")),
            ("int8", joined("bucket")),
            ("int4", joined("count")),
            ("float8", joined("sum")),
            ("float8", joined("min")),
            ("float8", joined("max")),
            ("int8", joined("last_ts")),
            ("float8", joined("last")),
            ("int4", np.arange(len(grain))),
        ]
    )


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
