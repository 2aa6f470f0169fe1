"""Raw observations by day: on PostgreSQL a partitioned table whose days are made ahead and on demand,
concurrent writers (recorders) that neither deadlock nor double-count, and a retention that drops old
days whole while the rollups stay (rows deleted on SQLite)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from cityops.core.ingest import PointBatch
from cityops.core.local_postgres import LocalPostgres
from cityops.core.observation_partitions import (
    DAY_MS,
    day_of,
    days_ahead,
    drop_raw_before,
    partition_days,
    partition_name,
)
from cityops.core.observations import ObservationStore
from cityops.core.schema import latest, observations, rollups
from cityops.core.store import open_engine, upgrade

OLD_DAY = day_of(1_790_000_000_000)  # 2026-09-21, Vietnam


def batch_of(points: list[tuple[int, int, int, float]]) -> PointBatch:
    batch = PointBatch()
    for e, m, t, v in points:
        batch.entity_ids.append(e)
        batch.metric_ids.append(m)
        batch.ts_ms.append(t)
        batch.values.append(v)
    return batch


def migrated(url: str) -> Engine:
    engine = open_engine(url)
    upgrade(engine)
    return engine


@pytest.fixture
def pg_engine(postgres_server: LocalPostgres) -> Iterator[Engine]:
    name = f"partitions_{time.monotonic_ns()}"
    engine = migrated(postgres_server.create_database(name))
    yield engine
    engine.dispose()
    postgres_server.drop_database(name)


def test_observations_are_partitioned_by_day_made_ahead(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        strategy = conn.execute(
            text("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'observations'::regclass")
        ).scalar_one()
        days = partition_days(conn)
    assert strategy == "r"
    assert set(days_ahead(int(time.time() * 1000))) <= days


def test_a_point_of_a_day_without_partition_makes_it_and_lands_in_it(pg_engine: Engine) -> None:
    store = ObservationStore(pg_engine)
    stored = store.write(batch_of([(1, 1, OLD_DAY + 5, 1.0), (1, 1, OLD_DAY + DAY_MS - 1, 2.0)]), "t")
    assert stored.accepted == 2
    with pg_engine.connect() as conn:
        homes = conn.execute(text("SELECT DISTINCT tableoid::regclass::text FROM observations")).scalars()
        assert list(homes) == [partition_name(OLD_DAY)]
        assert partition_name(OLD_DAY) == "observations_20260921"


def test_concurrent_writers_neither_deadlock_nor_count_twice(pg_engine: Engine) -> None:
    # Four recorders write overlapping batches (the same points re-sent, the same rollup buckets) at once.
    store = ObservationStore(pg_engine)
    start = threading.Barrier(4)
    accepted: list[int] = []
    errors: list[Exception] = []

    def record(worker: int) -> None:
        start.wait()
        try:
            for n in range(15):
                points = [
                    (1 + (i % 7), 1 + (i % 2), OLD_DAY + 1000 * ((n * 40 + i + worker * 20) % 900), float(i))
                    for i in range(60)
                ]
                accepted.append(store.write(batch_of(points), f"w{worker}").accepted)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with pg_engine.connect() as conn:
        raw = conn.execute(select(observations)).all()
        stored = conn.execute(select(rollups)).all()
        newest = {(r.entity_id, r.metric_id): (r.ts_ms, r.value) for r in conn.execute(select(latest))}
    assert sum(accepted) == len(raw) > 0
    expected: dict[tuple[str, int, int, int], list[tuple[int, float]]] = defaultdict(list)
    sizes = {"m": 60_000, "h": 3_600_000, "d": DAY_MS}
    for r in raw:
        for grain, size in sizes.items():
            bucket = day_of(r.ts_ms) if grain == "d" else r.ts_ms - r.ts_ms % size
            expected[(grain, r.entity_id, r.metric_id, bucket)].append((r.ts_ms, r.value))
    assert {(r.grain, r.entity_id, r.metric_id, r.bucket_ms) for r in stored} == set(expected)
    for r in stored:
        members = expected[(r.grain, r.entity_id, r.metric_id, r.bucket_ms)]
        assert r.count == len(members)
        assert r.sum == pytest.approx(sum(v for _, v in members))
        assert (r.last_ts_ms, r.last) == max(members)
    assert newest == {
        (r.entity_id, r.metric_id): max((x.ts_ms, x.value) for x in raw if x[:2] == r[:2]) for r in raw
    }


def test_retention_drops_old_days_and_keeps_rollups(databases: Any) -> None:
    engine = migrated(databases.new())
    store = ObservationStore(engine)
    days = [OLD_DAY, OLD_DAY + DAY_MS, OLD_DAY + 2 * DAY_MS]
    store.write(batch_of([(1, 1, day + 60_000 * k, float(k)) for day in days for k in range(5)]), "t")
    removed = drop_raw_before(engine, OLD_DAY + 2 * DAY_MS)
    with engine.connect() as conn:
        kept = conn.execute(select(observations.c.ts_ms)).scalars().all()
        day_rollups = conn.execute(
            select(rollups.c.bucket_ms, rollups.c.count)
            .where(rollups.c.grain == "d")
            .order_by(rollups.c.bucket_ms)
        ).all()
        minute_rollups = conn.execute(select(func.count()).where(rollups.c.grain == "m")).scalar_one()
        if engine.dialect.name == "postgresql":
            assert not {OLD_DAY, OLD_DAY + DAY_MS} & partition_days(conn)
            assert OLD_DAY + 2 * DAY_MS in partition_days(conn)
    engine.dispose()
    assert sorted(kept) == [OLD_DAY + 2 * DAY_MS + 60_000 * k for k in range(5)]
    assert removed == (2 if engine.dialect.name == "postgresql" else 10)
    assert [tuple(r) for r in day_rollups] == [(day, 5) for day in days]
    assert minute_rollups == 15
