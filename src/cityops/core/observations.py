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
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy import case as _case
from sqlalchemy import func as _func
from sqlalchemy.dialects import postgresql, sqlite

from cityops.core.ingest import PointBatch
from cityops.core.schema import GRAIN_MS, VIETNAM_OFFSET_MS, batches, latest, observations, rollups

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

    def write(self, batch: PointBatch, source: str) -> StoredBatch:
        received_ms = int(time.time() * 1000)
        with self._write_lock, self._engine.begin() as conn:
            accepted = self._insert_raw(conn, batch)
            columns = _Columns.sorted_from(accepted)
            result = conn.execute(
                insert(batches).values(received_ms=received_ms, source=source, points=len(accepted))
            )
            batch_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            newest = self._update_rollups(conn, columns) if len(accepted) else []
        return StoredBatch(batch_id, received_ms, len(accepted), len(batch) - len(accepted), newest)

    def _insert_raw(self, conn: Connection, batch: PointBatch) -> PointBatch:
        rows = list(zip(batch.entity_ids, batch.metric_ids, batch.ts_ms, batch.values, strict=True))
        if self._dialect == "sqlite":
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            before = conn.connection.driver_connection.total_changes  # type: ignore[union-attr]
            cursor.execute("SAVEPOINT raw_points")
            cursor.executemany(
                "INSERT OR IGNORE INTO observations (entity_id, metric_id, ts_ms, value) VALUES (?,?,?,?)",
                rows,
            )
            inserted = conn.connection.driver_connection.total_changes - before  # type: ignore[union-attr]
            if inserted == len(rows):
                cursor.execute("RELEASE raw_points")
                return batch
            cursor.execute("ROLLBACK TO raw_points")
            cursor.execute("RELEASE raw_points")
            fresh = self._without_duplicates(conn, batch)
            cursor.executemany(
                "INSERT INTO observations (entity_id, metric_id, ts_ms, value) VALUES (?,?,?,?)",
                list(zip(fresh.entity_ids, fresh.metric_ids, fresh.ts_ms, fresh.values, strict=True)),
            )
            return fresh
        fresh = self._without_duplicates(conn, batch)
        if len(fresh):
            conn.execute(
                insert(observations),
                [
                    {"entity_id": e, "metric_id": m, "ts_ms": t, "value": v}
                    for e, m, t, v in zip(
                        fresh.entity_ids, fresh.metric_ids, fresh.ts_ms, fresh.values, strict=True
                    )
                ],
            )
        return fresh

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
        dialect: Any = sqlite if self._dialect == "sqlite" else postgresql
        smaller = "min" if self._dialect == "sqlite" else "least"
        larger = "max" if self._dialect == "sqlite" else "greatest"
        for grain in GRAIN_MS:
            bucket = bucket_start(c.ts, grain)
            ends = c.group_ends(bucket)
            starts = np.concatenate(([0], ends[:-1]))
            last = ends - 1
            rows = [
                {
                    "grain": grain,
                    "entity_id": int(e),
                    "metric_id": int(m),
                    "bucket_ms": int(b),
                    "count": int(n),
                    "sum": float(s),
                    "min": float(lo),
                    "max": float(hi),
                    "last_ts_ms": int(lt),
                    "last": float(lv),
                }
                for e, m, b, n, s, lo, hi, lt, lv in zip(
                    c.entity[starts],
                    c.metric[starts],
                    bucket[starts],
                    ends - starts,
                    np.add.reduceat(c.value, starts),
                    np.minimum.reduceat(c.value, starts),
                    np.maximum.reduceat(c.value, starts),
                    c.ts[last],
                    c.value[last],
                    strict=True,
                )
            ]
            stmt = dialect.insert(rollups)
            ex = stmt.excluded
            table = rollups.c
            stmt = stmt.on_conflict_do_update(
                index_elements=["grain", "entity_id", "metric_id", "bucket_ms"],
                set_={
                    "count": table.count + ex.count,
                    "sum": table.sum + ex.sum,
                    "min": getattr(_func, smaller)(table.min, ex.min),
                    "max": getattr(_func, larger)(table.max, ex.max),
                    "last": _case((ex.last_ts_ms >= table.last_ts_ms, ex.last), else_=table.last),
                    "last_ts_ms": getattr(_func, larger)(table.last_ts_ms, ex.last_ts_ms),
                },
            )
            conn.execute(stmt, rows)
        ends = c.group_ends(None)
        newest = [
            (int(e), int(m), int(t), float(v))
            for e, m, t, v in zip(
                c.entity[ends - 1], c.metric[ends - 1], c.ts[ends - 1], c.value[ends - 1], strict=True
            )
        ]
        stmt = dialect.insert(latest)
        stmt = stmt.on_conflict_do_update(
            index_elements=["entity_id", "metric_id"],
            set_={
                "value": _case(
                    (stmt.excluded.ts_ms >= latest.c.ts_ms, stmt.excluded.value), else_=latest.c.value
                ),
                "ts_ms": getattr(_func, larger)(latest.c.ts_ms, stmt.excluded.ts_ms),
            },
        )
        conn.execute(
            stmt, [{"entity_id": e, "metric_id": m, "ts_ms": t, "value": v} for e, m, t, v in newest]
        )
        return newest


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
