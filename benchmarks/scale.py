"""Ingestion through the cluster path (PostgreSQL + NATS JetStream queue + recorders) against the
embedded default (SQLite, in-process bus).

    .venv/bin/python benchmarks/scale.py [--seconds 5] [--runs 3]

Measures, in each run, with one local nats-server (JetStream, file storage, 1 replica) and one
throw-away PostgreSQL 15 cluster (Debian's, default durable settings: fsync, synchronous commit):
  (a) embedded: `cityops serve` on SQLite (in-process bus): points/s through `POST /api/ingest`, stored on
      return;
  (b) cluster, 1 recorder: `serve --role api` + `serve --role recorder` on PostgreSQL: points/s from the
      first POST until the last batch is in the store (202s come earlier, when JetStream holds the batch);
  (c) cluster, 2 recorders: the same with two recorder processes;
  (peer) PostgreSQL binary COPY of the same rows alone into a bare table with the same primary key, one
      transaction per batch (as benchmarks/store.py): the floor of any PostgreSQL-backed store;
  (peer) NATS JetStream publish alone: the same encoded batches published with acknowledgement to a
      stream configured as the ingestion stream, nobody consuming: the floor of the queue's cost;
  (peer) sqlite3 `executemany` of the same rows into a bare table (as benchmarks/ingest.py), the
      embedded default's floor;
  and event -> live feed (SSE) latency p50/p99 at 10,000 points/s for (a), (b) and (c): 1,000-point
  batches posted every 0.1 s, each timed from its POST until its event reaches an SSE client; the client
  waits up to 30 s after the last post for late events, and counts those that never come.
Prints medians over the runs. Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import nats
import orjson
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from sqlalchemy import create_engine, func, select

from cityops.backends.wire import MAX_PAYLOAD, encode_batch
from cityops.core.entities import EntityRef
from cityops.core.ingest import PointBatch
from cityops.core.local_postgres import LocalPostgres
from cityops.core.schema import batches
from ingest import BATCH, REPO, feed_latency, make_points, operator_headers, prepare, sqlite_peer
from store import copy_peer

BIN = Path(sys.executable).parent
BATCHES = 200
COPY_BATCHES = 60


@contextmanager
def nats_server(folder: Path, port: int) -> Iterator[str]:
    config = folder / "nats.conf"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\nmax_payload: 8MB\n'
        f'jetstream {{ store_dir: "{folder / "js"}", max_memory_store: 64MB, max_file_store: 4GB }}\n',
        encoding="utf-8",
    )
    process = subprocess.Popen([str(BIN / "nats-server"), "-c", str(config)], stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def cityops(url: str, role: str | None, port: int, bus_url: str | None) -> Iterator[str]:
    env = {**os.environ, "CITYOPS_DATABASE_URL": url, "CITYOPS_NODE_MODULES": str(REPO / "node_modules")}
    if bus_url is not None:
        env["CITYOPS_BUS_URL"] = bus_url
    command = [str(BIN / "cityops"), "serve", "--port", str(port)]
    if role is not None:
        command += ["--role", role]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    base = f"http://127.0.0.1:{port}"
    try:
        if role == "recorder":
            for line in process.stdout:
                if b"bus connected" in line:
                    break
        else:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{base}/api/meta", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
        # Read on, so a process that logs never blocks on a full pipe.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # an open SSE stream can hold a graceful shutdown
            process.kill()
            process.wait()


def stored_count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(batches)).scalar_one())
    engine.dispose()
    return count


def until_stored(base: str, url: str, urns: list[str], seconds: float, auth: dict[str, str]) -> float:
    """Points/s from the first POST until the last posted batch is in the store."""
    bodies = [orjson.dumps({"points": make_points(urns, 1000 + n)}) for n in range(BATCHES)]
    headers = {"content-type": "application/json", **auth}
    before = stored_count(url)
    posted = points = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        start = time.perf_counter()
        for body in bodies:
            if time.perf_counter() - start >= seconds:
                break
            response = client.post("/api/ingest", content=body, headers=headers)
            response.raise_for_status()
            posted += 1
            points += response.json()["points"]
    while stored_count(url) < before + posted:
        time.sleep(0.05)
    return points / (time.perf_counter() - start)


def point_batches(urns: list[str], count: int) -> list[PointBatch]:
    """The posted batches as an API server hands them on (entity and metric ids for the names)."""
    index = {urn: i + 1 for i, urn in enumerate(urns)}
    refs = {i + 1: EntityRef(i + 1, urn, "Camera", urn) for i, urn in enumerate(urns)}
    result = []
    for n in range(count):
        points = make_points(urns, n)
        result.append(
            PointBatch(
                entity_ids=[index[str(p["entity"])] for p in points],
                metric_ids=[
                    1 + ("intensity", "occupancy", "averageVehicleSpeed").index(str(p["metric"]))
                    for p in points
                ],
                ts_ms=[int(str(p["time"])) for p in points],
                values=[float(str(p["value"])) for p in points],
                entities=refs,
            )
        )
    return result


def jetstream_peer(bus_url: str, urns: list[str], seconds: float) -> float:
    """The same batches, encoded as API servers do, published with acknowledgement; nobody consumes."""
    payloads = [encode_batch(n + 1, "bench", batch) for n, batch in enumerate(point_batches(urns, BATCHES))]

    async def run() -> float:
        nc = await nats.connect(bus_url)
        js = nc.jetstream(timeout=30)
        await js.add_stream(
            StreamConfig(
                name="PEER",
                subjects=["peer.ingest"],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=120.0,
                max_msg_size=MAX_PAYLOAD,
            )
        )
        done = 0
        start = time.perf_counter()
        for n, payload in enumerate(payloads):
            if time.perf_counter() - start >= seconds:
                break
            await js.publish("peer.ingest", payload, headers={"Nats-Msg-Id": str(n)})
            done += BATCH
        rate = done / (time.perf_counter() - start)
        await js.delete_stream("PEER")
        await nc.close()
        return rate

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    configs = (("embedded", "embedded, SQLite"), ("cluster1", "PostgreSQL + NATS, 1 recorder"),
               ("cluster2", "PostgreSQL + NATS, 2 recorders"))  # fmt: skip
    keys = [*(k for k, _ in configs), "jetstream", "copy", "sqlite"]
    keys += [f"{k}_{q}" for k, _ in configs for q in ("p50", "p99", "lost")]
    results: dict[str, list[float]] = {k: [] for k in keys}

    def show(key: str, label: str) -> None:
        print(f"  {label:<44} {results[key][-1]:>10,.0f} points/s", flush=True)

    def latency(key: str, label: str, base: str, urns: list[str], auth: dict[str, str]) -> None:
        p50, p99, _, lost = feed_latency(base, urns, args.seconds, auth)
        for q, value in (("p50", p50), ("p99", p99), ("lost", lost)):
            results[f"{key}_{q}"].append(value)
        print(f"  {label + ' feed latency':<44} p50 {p50:.0f} ms, p99 {p99:.0f} ms", flush=True)

    server = LocalPostgres.start(durable=True)
    try:
        for run in range(1, args.runs + 1):
            print(f"run {run}/{args.runs}", flush=True)
            with tempfile.TemporaryDirectory() as tmp, nats_server(Path(tmp), 19000 + 10 * run) as bus:
                base_port = 19000 + 10 * run
                urns = prepare(f"sqlite:///{tmp}/e.sqlite")
                results["jetstream"].append(jetstream_peer(bus, urns, args.seconds))
                show("jetstream", "NATS JetStream publish alone (peer)")
                server.create_database("peer")
                results["copy"].append(copy_peer(server, point_batches(urns, COPY_BATCHES)))
                server.drop_database("peer")
                show("copy", "PostgreSQL COPY alone (peer)")
                results["sqlite"].append(sqlite_peer(urns, args.seconds))
                show("sqlite", "sqlite3 executemany alone (peer)")

                url = f"sqlite:///{tmp}/e.sqlite"
                auth = operator_headers(url)
                with cityops(url, None, base_port + 1, None) as base:
                    results["embedded"].append(until_stored(base, url, urns, args.seconds, auth))
                    show("embedded", configs[0][1])
                    latency("embedded", "embedded", base, urns, auth)

                for recorders, (key, label) in zip((1, 2), configs[1:], strict=True):
                    name = f"cluster{run}_{recorders}"
                    url = server.create_database(name)
                    prepare(url)
                    auth = operator_headers(url)
                    with cluster(url, base_port + 1 + recorders, bus, recorders) as base:
                        results[key].append(until_stored(base, url, urns, args.seconds, auth))
                        show(key, f"{label}, until stored")
                        latency(key, label, base, urns, auth)
                    server.drop_database(name)
    finally:
        server.stop()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"\nmedians over {args.runs} runs (load average {os.getloadavg()[0]:.1f} at the end)")
    for key, label in configs:
        print(
            f"  {label:<32} {med[key]:>10,.0f} points/s  ({med[key] / med['copy']:.2f} x PostgreSQL COPY,"
            f" {med[key] / med['jetstream']:.3f} x JetStream publish, {med[key] / med['sqlite']:.2f} x sqlite3)"
        )
    print(f"  {'PostgreSQL COPY alone':<32} {med['copy']:>10,.0f} points/s")
    print(f"  {'JetStream publish alone':<32} {med['jetstream']:>10,.0f} points/s")
    print(f"  {'sqlite3 executemany alone':<32} {med['sqlite']:>10,.0f} points/s")
    for key, label in configs:
        print(
            f"  feed latency at 10,000 points/s, {label}: p50 {med[key + '_p50']:.0f} ms,"
            f" p99 {med[key + '_p99']:.0f} ms, events never seen {max(results[key + '_lost']):.0f}"
        )


@contextmanager
def cluster(url: str, port: int, bus: str, recorders: int) -> Iterator[str]:
    """An API server and `recorders` recorder processes on one store and one bus."""
    with ExitStack() as stack:
        base = stack.enter_context(cityops(url, "api", port, bus))
        for _ in range(recorders):
            stack.enter_context(cityops(url, "recorder", port, bus))
        yield base


if __name__ == "__main__":
    main()
