"""The observation store: incremental rollups equal a recomputation from raw rows, whatever the batches;
a process killed in the middle of a batch leaves no half-written batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, select

from cityops.core.ingest import PointBatch
from cityops.core.observations import ObservationStore, bucket_start, read_rollups
from cityops.core.schema import GRAIN_MS, batches, latest, observations, rollups
from cityops.core.store import open_engine, upgrade

BASE_MS = 1_790_000_000_000  # 2026-09-21


@pytest.fixture
def store_url(databases: Any) -> str:
    """An empty database of the backend under test with the kernel's tables."""
    url: str = databases.new()
    engine = open_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = open_engine(store_url)
    yield engine
    engine.dispose()


def empty_store(engine: Engine) -> ObservationStore:
    with engine.begin() as conn:
        for table in (observations, rollups, latest, batches):
            conn.execute(delete(table))
    return ObservationStore(engine)


def make_batch(points: list[tuple[int, int, int, float]]) -> PointBatch:
    batch = PointBatch()
    for e, m, t, v in points:
        batch.entity_ids.append(e)
        batch.metric_ids.append(m)
        batch.ts_ms.append(t)
        batch.values.append(v)
    return batch


point = st.tuples(
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(BASE_MS, BASE_MS + 3 * 86_400_000),
    st.floats(-1e6, 1e6, allow_nan=False),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(point, min_size=1, max_size=40), min_size=1, max_size=5), st.integers(1, 3))
def test_rollups_equal_recomputation_from_raw(
    engine: Engine, batch_list: list[list[tuple[int, int, int, float]]], group: int
) -> None:
    """Batches stored one by one, or `group` at a time in one transaction (as a recorder does)."""
    store = empty_store(engine)
    for start in range(0, len(batch_list), group):
        store.write_many([(make_batch(points), "test", None) for points in batch_list[start : start + group]])
    with engine.connect() as conn:
        raw = conn.execute(select(observations)).all()
        stored = {
            (r.grain, r.entity_id, r.metric_id, r.bucket_ms): r for r in conn.execute(select(rollups)).all()
        }
    # First write of an (entity, metric, time) wins, in batch order.
    first: dict[tuple[int, int, int], float] = {}
    for points in batch_list:
        for e, m, t, v in points:
            first.setdefault((e, m, t), v)
    assert {(r.entity_id, r.metric_id, r.ts_ms): r.value for r in raw} == first
    expected: dict[tuple[str, int, int, int], list[tuple[int, float]]] = defaultdict(list)
    import numpy as np

    for (e, m, t), v in first.items():
        for grain in GRAIN_MS:
            bucket = int(bucket_start(np.array([t], dtype=np.int64), grain)[0])
            expected[(grain, e, m, bucket)].append((t, v))
    assert set(stored) == set(expected)
    for key, members in expected.items():
        row = stored[key]
        values = [v for _, v in members]
        assert row.count == len(values)
        assert abs(row.sum - sum(values)) <= 1e-6 * max(1.0, sum(abs(v) for v in values))
        assert (row.min, row.max) == (min(values), max(values))
        assert (row.last_ts_ms, row.last) == max(members)


def test_batches_stored_together_are_counted_each_and_once(engine: Engine) -> None:
    store = empty_store(engine)
    store.write(make_batch([(1, 1, BASE_MS, 1.0)]), "test", batch_id=7)
    stored = store.write_many(
        [
            (make_batch([(1, 1, BASE_MS, 9.0), (1, 1, BASE_MS + 1, 2.0)]), "test", 7),  # stored before
            (make_batch([(1, 1, BASE_MS + 1, 3.0), (2, 1, BASE_MS, 4.0)]), "test", 8),
            (make_batch([(2, 1, BASE_MS, 5.0), (1, 1, BASE_MS + 2, 6.0)]), "test", 9),  # repeats 8's point
            (make_batch([(1, 1, BASE_MS + 3, 7.0)]), "test", 8),  # the same id twice: once
        ]
    )
    assert [(s.batch_id, s.accepted, s.duplicates) for s in stored] == [
        (7, 0, 2),
        (8, 2, 0),
        (9, 1, 1),
        (8, 0, 1),
    ]
    assert [s.newest for s in stored] == [
        [],
        [(1, 1, BASE_MS + 1, 3.0), (2, 1, BASE_MS, 4.0)],
        [(1, 1, BASE_MS + 2, 6.0)],
        [],
    ]
    with engine.connect() as conn:
        (minute,) = read_rollups(conn, 1, 1, "m", 0, BASE_MS * 2)
        assert dict(conn.execute(select(batches.c.id, batches.c.points)).all()) == {7: 1, 8: 2, 9: 1}
        newest = conn.execute(select(latest.c.entity_id, latest.c.ts_ms, latest.c.value)).all()
    assert (minute.count, minute.sum, minute.last) == (3, 10.0, 6.0)
    assert sorted(map(tuple, newest)) == [(1, BASE_MS + 2, 6.0), (2, BASE_MS, 4.0)]


def test_day_buckets_follow_vietnam_civil_day(engine: Engine) -> None:
    store = empty_store(engine)
    # 16:59:59Z and 17:00:00Z fall on two Vietnamese days (UTC+7 midnight is 17:00Z).
    day_start = 1_790_000_000_000 - (1_790_000_000_000 + 7 * 3_600_000) % 86_400_000
    store.write(make_batch([(1, 1, day_start - 1000, 1.0), (1, 1, day_start, 2.0)]), "test")
    with engine.connect() as conn:
        days = read_rollups(conn, 1, 1, "d", 0, BASE_MS * 2)
    assert [(d.bucket_ms, d.count) for d in days] == [(day_start - 86_400_000, 1), (day_start, 1)]


WRITER = """
import sys
from cityops.core.ingest import PointBatch
from cityops.core.observations import ObservationStore
from cityops.core.store import open_engine
engine = open_engine(sys.argv[1])
store = ObservationStore(engine)
size = int(sys.argv[2])
n = 0
print("ready", flush=True)
while True:
    batch = PointBatch(
        entity_ids=[1 + i % 50 for i in range(size)], metric_ids=[1] * size,
        ts_ms=[1_790_000_000_000 + n * size + i for i in range(size)], values=[float(i) for i in range(size)],
    )
    store.write(batch, "crash-test")
    print("stored", flush=True)
    n += 1
"""


def test_killed_writer_leaves_no_half_batch(store_url: str) -> None:
    url = store_url
    size = 20_000
    for delay in (0.4, 0.9, 1.3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(size)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        # One batch stored first, however loaded the machine, so the kill lands in a later one.
        assert proc.stdout.readline().strip() == "stored"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    engine = open_engine(url)
    with engine.connect() as conn:
        raw = conn.execute(select(func.count()).select_from(observations)).scalar_one()
        declared = conn.execute(select(func.coalesce(func.sum(batches.c.points), 0))).scalar_one()
        day_counts = conn.execute(
            select(func.coalesce(func.sum(rollups.c.count), 0)).where(rollups.c.grain == "d")
        ).scalar_one()
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    engine.dispose()
    assert raw > 0
    assert raw % size == 0
    assert raw == declared == day_counts


def test_values_whose_sums_could_overflow_are_refused_whole(engine: Engine) -> None:
    store = empty_store(engine)
    for bad in (1.7e308, float("nan"), float("-inf")):
        with pytest.raises(ValueError, match="value"):
            store.write(make_batch([(1, 1, BASE_MS, 1.0), (1, 1, BASE_MS + 1, bad)]), "test")
    store.write(make_batch([(1, 1, BASE_MS + k, 1e15) for k in range(3)]), "test")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 3
        (minute,) = read_rollups(conn, 1, 1, "m", 0, BASE_MS * 2)
    assert minute.sum == 3e15
