"""Ingestion throughput and event -> live-feed latency on the embedded default (SQLite).

    .venv/bin/python benchmarks/ingest.py [--seconds 10] [--runs 3]

Measures, in one run:
  (a) sustained data points/s through `POST /api/ingest` (real uvicorn server, JSON batches);
  (b) sustained data points/s in-process (validation + store + rollups + bus);
  (peer) the same rows written by plain sqlite3 `executemany` into a bare table with the same primary
      key and no rollups, the floor any SQLite-backed store pays;
  (c) event -> live feed (SSE) latency p50/p99 while posting 10,000 points/s.
Prints medians over the runs. Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.access.tokens import issue_token
from cityops.core.entities import make_urn
from cityops.core.ingest import validate_points
from cityops.core.kernel import Kernel

REPO = Path(__file__).resolve().parent.parent
ENTITIES = 1000
BATCH = 10_000
METRICS = ("intensity", "occupancy", "averageVehicleSpeed")
START_MS = 1_790_000_000_000
# How long `feed_latency` waits, after the last post, for the events still to come.
LATE_S = 30.0


def prepare(url: str) -> list[str]:
    kernel = Kernel.open(url, node_modules=REPO / "node_modules")
    urns = []
    for i in range(ENTITIES):
        urn = make_urn("Camera", f"bench-{i:04d}")
        kernel.registry.upsert(urn, f"Bench camera {i}", 106.60 + (i % 40) * 0.004, 10.95 + (i // 40) * 0.006)
        urns.append(urn)
    kernel.engine.dispose()
    return urns


def operator_headers(url: str) -> dict[str, str]:
    """An operator account's bearer token: it may send data and read the live feed."""
    kernel = Kernel.open(url, node_modules=REPO / "node_modules")
    with kernel.engine.begin() as conn:
        create_user(conn, NewUser("bench", Role.OPERATOR), actor="bench")
        issued = issue_token(conn, "bench", "user", "bench", actor="bench")
    kernel.engine.dispose()
    return {"Authorization": f"Bearer {issued.secret}"}


def make_points(urns: list[str], batch_no: int) -> list[dict[str, object]]:
    """A batch of BATCH points: every entity, its three metrics, at successive seconds."""
    points = []
    per_entity = BATCH // len(urns)
    for i in range(BATCH):
        urn = urns[i % len(urns)]
        step = batch_no * per_entity + i // len(urns)
        points.append(
            {"entity": urn, "metric": METRICS[step % 3], "time": START_MS + step * 1000, "value": i % 97}
        )
    return points


def in_process(url: str, urns: list[str], seconds: float) -> float:
    kernel = Kernel.open(url, node_modules=REPO / "node_modules")
    bodies = [orjson.dumps(make_points(urns, n)) for n in range(200)]

    async def run() -> float:
        done = 0
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds and n < len(bodies):
            batch = validate_points(orjson.loads(bodies[n]), kernel.registry, kernel.now_ms(), BATCH)
            done += (await kernel.record(batch, "bench")).accepted
            n += 1
        return done / (time.perf_counter() - start)

    rate = asyncio.run(run())
    kernel.engine.dispose()
    return rate


def sqlite_peer(urns: list[str], seconds: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "peer.sqlite", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE obs (entity TEXT, metric TEXT, ts INTEGER, value REAL,"
            " PRIMARY KEY (entity, metric, ts)) WITHOUT ROWID"
        )
        batches = [
            [(p["entity"], p["metric"], p["time"], p["value"]) for p in make_points(urns, n)]
            for n in range(200)
        ]
        done = 0
        start = time.perf_counter()
        for rows in batches:
            if time.perf_counter() - start >= seconds:
                break
            db.execute("BEGIN")
            db.executemany("INSERT INTO obs VALUES (?,?,?,?)", rows)
            db.execute("COMMIT")
            done += len(rows)
        rate = done / (time.perf_counter() - start)
        db.close()
    return rate


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CITYOPS_DATABASE_URL": url, "CITYOPS_NODE_MODULES": str(REPO / "node_modules")}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "cityops"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/meta", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def over_http(base: str, urns: list[str], seconds: float, auth: dict[str, str]) -> float:
    bodies = [orjson.dumps({"points": make_points(urns, 1000 + n)}) for n in range(200)]
    headers = {"content-type": "application/json", **auth}
    done = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        start = time.perf_counter()
        for body in bodies:
            if time.perf_counter() - start >= seconds:
                break
            response = client.post("/api/ingest", content=body, headers=headers)
            response.raise_for_status()
            done += response.json()["points"]
        return done / (time.perf_counter() - start)


def feed_latency(
    base: str, urns: list[str], seconds: float, auth: dict[str, str], rate: int = 10_000
) -> tuple[float, float, float, int]:
    """Post `rate` points/s in batches of 1,000 and time each batch until its SSE event arrives; returns
    p50 and p99 (ms), the rate achieved and the number of batches whose event never came."""
    per_batch = 1000
    interval = per_batch / rate
    sent: dict[int, float] = {}
    arrived: dict[int, float] = {}
    ready = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server is stopped at the end of the run
            read_feed()

    def read_feed() -> None:
        with (
            httpx.Client(base_url=base, timeout=None, headers=auth) as client,
            client.stream("GET", "/api/live") as stream,
        ):
            event = ""
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                    if event == "hello":
                        ready.set()
                elif line.startswith("data:") and event == "observations":
                    arrived[orjson.loads(line[5:])["batch_id"]] = time.perf_counter()
                if stop.is_set():
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(10)
    bodies = []
    for n in range(int(seconds * rate / per_batch) + 1):
        points = make_points(urns, 5000 + n)[:per_batch]
        bodies.append(orjson.dumps({"points": points}))
    actual_start = time.perf_counter()
    with httpx.Client(base_url=base, timeout=30, headers=auth) as client:
        for n, body in enumerate(bodies):
            due = actual_start + n * interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            t0 = time.perf_counter()
            response = client.post("/api/ingest", content=body, headers={"content-type": "application/json"})
            sent[response.json()["batch_id"]] = t0
    achieved = len(bodies) * per_batch / (time.perf_counter() - actual_start)
    # Late events count: wait for every batch's (up to LATE_S), not a fixed second.
    deadline = time.perf_counter() + LATE_S
    while time.perf_counter() < deadline and any(b not in arrived for b in list(sent)):
        time.sleep(0.05)
    stop.set()
    latencies = sorted((arrived[b] - t) * 1000 for b, t in sent.items() if b in arrived)
    if len(latencies) < len(sent):
        print(f"  warning: {len(sent) - len(latencies)} batches never reached the feed", file=sys.stderr)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return p50, p99, achieved, len(sent) - len(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {k: [] for k in ("http", "in_process", "peer", "p50", "p99", "rate")}
    for run in range(1, args.runs + 1):
        print(f"run {run}/{args.runs}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            urns = prepare(f"sqlite:///{tmp}/a.sqlite")
            results["in_process"].append(in_process(f"sqlite:///{tmp}/a.sqlite", urns, args.seconds))
            print(f"  in-process        {results['in_process'][-1]:>10,.0f} points/s", flush=True)
            results["peer"].append(sqlite_peer(urns, args.seconds))
            print(f"  sqlite3 peer      {results['peer'][-1]:>10,.0f} points/s", flush=True)
            prepare(f"sqlite:///{tmp}/b.sqlite")
            auth = operator_headers(f"sqlite:///{tmp}/b.sqlite")
            port = 18080 + run
            server = start_server(f"sqlite:///{tmp}/b.sqlite", port)
            try:
                base = f"http://127.0.0.1:{port}"
                results["http"].append(over_http(base, urns, args.seconds, auth))
                print(f"  HTTP batch API    {results['http'][-1]:>10,.0f} points/s", flush=True)
                p50, p99, rate, _ = feed_latency(base, urns, args.seconds, auth)
                results["p50"].append(p50)
                results["p99"].append(p99)
                results["rate"].append(rate)
                print(
                    f"  feed latency      p50 {p50:.1f} ms  p99 {p99:.1f} ms at {rate:,.0f} points/s",
                    flush=True,
                )
            finally:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:  # an open SSE stream can hold a graceful shutdown
                    server.kill()
                    server.wait()
    med = {k: statistics.median(v) for k, v in results.items()}
    print("\nmedians over", args.runs, "runs")
    print(
        f"  HTTP batch API     {med['http']:>10,.0f} points/s  ({med['http'] / med['peer']:.2f} x sqlite3 peer)"
    )
    print(
        f"  in-process         {med['in_process']:>10,.0f} points/s  ({med['in_process'] / med['peer']:.2f} x sqlite3 peer)"
    )
    print(
        f"  sqlite3 peer       {med['peer']:>10,.0f} points/s  (bare executemany, no rollups, no validation)"
    )
    print(
        f"  feed latency       p50 {med['p50']:.1f} ms, p99 {med['p99']:.1f} ms at {med['rate']:,.0f} points/s"
    )


if __name__ == "__main__":
    main()
