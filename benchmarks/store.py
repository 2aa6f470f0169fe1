"""The observation store alone, embedded default (SQLite) against PostgreSQL, with a bare peer for each.

    .venv/bin/python benchmarks/store.py [--batches 60] [--runs 3]

Measures, in one run, validated batches of 10,000 points (1,000 series, new seconds each batch) written by
`ObservationStore.write` (raw points + minute/hour/day rollups + latest, one transaction per batch):
  (a) SQLite (WAL, synchronous=NORMAL, the default store);
  (b) PostgreSQL 15 (Debian's, a throw-away cluster with its default durable settings, on loopback):
      binary COPY straight into the day partition, then one COPY of numpy's aggregates and one set-based
      upsert each for rollups and latest;
  (c) PostgreSQL, `ObservationStore.write_many` of GROUP batches per transaction, as a recorder stores
      the batches it finds queued together;
  (peer a) the same rows by plain sqlite3 `executemany` into a bare table with the same primary key;
  (peer b) the same rows by binary `COPY` (psycopg, the stream encoded as the store encodes it) into a
      bare table with the same primary key, one transaction per batch: the floor any PostgreSQL-backed
      store pays (no rollups, no de-duplication).
Prints medians over the runs (points/s). Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cityops.core.binary_copy import encode_binary_copy
from cityops.core.ingest import PointBatch
from cityops.core.local_postgres import LocalPostgres
from cityops.core.observations import ObservationStore
from cityops.core.store import open_engine, upgrade

SERIES = 1000
BATCH = 10_000
START_MS = 1_790_000_000_000
# Batches a recorder stores in one transaction when it finds them queued (cityops.backends.recorder).
GROUP = 8


def make_batch(n: int) -> PointBatch:
    """BATCH points: every series at BATCH // SERIES successive seconds after the previous batch's."""
    per_series = BATCH // SERIES
    batch = PointBatch()
    for i in range(BATCH):
        step = n * per_series + i // SERIES
        batch.entity_ids.append(1 + i % SERIES)
        batch.metric_ids.append(1 + step % 3)
        batch.ts_ms.append(START_MS + step * 1000)
        batch.values.append(float(i % 97))
    return batch


def timed(write: Callable[[PointBatch], None], batches: list[PointBatch]) -> float:
    start = time.perf_counter()
    for batch in batches:
        write(batch)
    return len(batches) * BATCH / (time.perf_counter() - start)


def store_rate(url: str, batches: list[PointBatch], group: int = 1) -> float:
    engine = open_engine(url)
    upgrade(engine)
    store = ObservationStore(engine)
    store.write(make_batch(10_000), "warm-up")  # partitions, scratch tables, caches
    groups = [batches[i : i + group] for i in range(0, len(batches), group)]
    start = time.perf_counter()
    for together in groups:
        store.write_many([(batch, "bench", None) for batch in together])
    rate = len(batches) * BATCH / (time.perf_counter() - start)
    engine.dispose()
    return rate


def rows_of(batch: PointBatch) -> list[tuple[int, int, int, float]]:
    return list(zip(batch.entity_ids, batch.metric_ids, batch.ts_ms, batch.values, strict=True))


def sqlite_peer(path: Path, batches: list[PointBatch]) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE obs (entity_id INTEGER, metric_id INTEGER, ts_ms INTEGER, value REAL,"
        " PRIMARY KEY (entity_id, metric_id, ts_ms)) WITHOUT ROWID"
    )

    def write(batch: PointBatch) -> None:
        db.execute("BEGIN")
        db.executemany("INSERT INTO obs VALUES (?,?,?,?)", rows_of(batch))
        db.execute("COMMIT")

    rate = timed(write, batches)
    db.close()
    return rate


def copy_peer(server: LocalPostgres, batches: list[PointBatch]) -> float:
    with server.connect("peer") as conn:
        conn.execute(
            "CREATE TABLE obs (entity_id int4, metric_id int4, ts_ms int8, value float8,"
            " PRIMARY KEY (entity_id, metric_id, ts_ms))"
        )
        conn.autocommit = False

        def write(batch: PointBatch) -> None:
            columns = (batch.entity_ids, batch.metric_ids, batch.ts_ms, batch.values)
            stream = encode_binary_copy(list(zip(("int4", "int4", "int8", "float8"), columns, strict=True)))
            with conn.cursor() as cursor, cursor.copy("COPY obs FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(stream)
            conn.commit()

        return timed(write, batches)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=60, help="batches of 10,000 points per measurement")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    batches = [make_batch(n) for n in range(args.batches)]
    keys = ("sqlite", "sqlite_peer", "postgresql", "postgresql_group", "copy_peer")
    results: dict[str, list[float]] = {k: [] for k in keys}
    server = LocalPostgres.start(durable=True)
    try:
        for run in range(1, args.runs + 1):
            print(f"run {run}/{args.runs}", flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                results["sqlite"].append(store_rate(f"sqlite:///{tmp}/store.sqlite", batches))
                results["sqlite_peer"].append(sqlite_peer(Path(tmp) / "peer.sqlite", batches))
            results["postgresql"].append(store_rate(server.create_database("store"), batches))
            results["postgresql_group"].append(store_rate(server.create_database("group"), batches, GROUP))
            server.create_database("peer")
            results["copy_peer"].append(copy_peer(server, batches))
            for name in ("store", "group", "peer"):
                server.drop_database(name)
            for key, values in results.items():
                print(f"  {key:<12} {values[-1]:>10,.0f} points/s", flush=True)
    finally:
        server.stop()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"\nmedians over {args.runs} runs of {args.batches} batches of {BATCH:,} points")
    print(
        f"  SQLite store       {med['sqlite']:>10,.0f} points/s  ({med['sqlite'] / med['sqlite_peer']:.2f} x sqlite3 peer)"
    )
    print(f"  sqlite3 peer       {med['sqlite_peer']:>10,.0f} points/s  (bare executemany, no rollups)")
    print(
        f"  PostgreSQL store   {med['postgresql']:>10,.0f} points/s  ({med['postgresql'] / med['copy_peer']:.2f} x COPY peer)"
    )
    print(
        f"  PostgreSQL, {GROUP} a tx {med['postgresql_group']:>10,.0f} points/s  ({med['postgresql_group'] / med['copy_peer']:.2f} x COPY peer)"
    )
    print(f"  COPY peer          {med['copy_peer']:>10,.0f} points/s  (bare binary COPY, no rollups)")


if __name__ == "__main__":
    main()
