"""NGSI-LD throughput and query latency over many entities, with the project's own paths as peers.

    .venv/bin/python benchmarks/ngsild.py [--entities 100000] [--peer-entities 3000] [--queries 20]
    .venv/bin/python benchmarks/ngsild.py --only-notifications [--subscriptions 20] [--notify-seconds 15]

One run against a real server (`cityops serve`, uvicorn, a fresh SQLite file, all domains loaded):
  (a) entity upserts/s creating `--entities` AccessPoints through `POST /ngsi-ld/v1/entityOperations/upsert`
      (batches of 1,000: name, location, one plain attribute and one metric value each);
  (peer a) entities/s through the project's own `POST /api/entities`, one entity a request (the only
      other way to create entities over HTTP), for `--peer-entities` entities;
  (b) value upserts/s: every entity again through upsert `options=update` with a new metric value
      (what a gateway does), batches of 1,000;
  (peer b) the same values through `POST /api/ingest`, batches of 1,000 points;
  (c) query latency p50/p99 over all the entities: `q` (a plain attribute, a metric), `geoQ` near
      (500 m) and within (a 2 km box), `--queries` times each at varied values, with `GET /api/entities`
      (the map's GeoJSON of one type) as the project's own read path beside them;
  (d) notifications delivered/s and their latency p50/p99 to a real HTTP receiver on loopback, the
      updates through NGSI-LD upsert and (peer d) through `POST /api/ingest` (benchmarks/ngsild_notifications.py).
Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cityops.core.kernel import Kernel
from ingest import operator_headers, start_server
from ngsild_notifications import measure as measure_notifications
from ngsild_notifications import report as report_notifications

REPO = Path(__file__).resolve().parent.parent
BATCH = 1000
WEST, EAST, SOUTH, NORTH = 106.55, 106.80, 10.90, 11.15  # around Thủ Dầu Một
NOW_MS = int(time.time() * 1000) - 3_600_000


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def entity(n: int, rng: random.Random) -> dict[str, object]:
    return {
        "id": f"urn:ngsi-ld:AccessPoint:bench-{n:06d}",
        "type": "AccessPoint",
        "name": {"type": "Property", "value": f"Điểm phát {n}"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)]},
        },
        "floor": {"type": "Property", "value": n % 10},
        "activeUsers": {"type": "Property", "value": n % 100, "observedAt": iso(NOW_MS)},
    }


def timed_batches(client: httpx.Client, path: str, bodies: list[bytes], label: str, per: int) -> float:
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        response = client.post(path, content=body)
        if response.status_code not in (200, 201, 202, 204):
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        if i % 10 == 9 or i == len(bodies) - 1:
            rate = (i + 1) * per / (time.perf_counter() - start)
            print(f"\r  {label}: {(i + 1) * per:,} ({rate:,.0f}/s)", end="", flush=True)
    print()
    return len(bodies) * per / (time.perf_counter() - start)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def latency(
    client: httpx.Client, runs: int, request: Callable[[int], httpx.Response]
) -> tuple[float, float, int]:
    samples = []
    found = 0
    for i in range(runs):
        start = time.perf_counter()
        response = request(i)
        samples.append(time.perf_counter() - start)
        response.raise_for_status()
        found = int(response.headers.get("NGSILD-Results-Count", "0"))
    p50, p99 = percentiles(samples)
    return p50, p99, found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bulk(client: httpx.Client, count: int, args: argparse.Namespace) -> tuple[float, float, float, float]:
    """Parts (a) to (c); returns the rates of (a), (peer a), (b), (peer b)."""
    rng = random.Random(7)
    print(f"NGSI-LD benchmark: {count:,} entities")
    bodies = [
        orjson.dumps([entity(n, rng) for n in range(start, start + BATCH)])
        for start in range(0, count, BATCH)
    ]
    create_rate = timed_batches(
        client, "/ngsi-ld/v1/entityOperations/upsert", bodies, "(a) NGSI-LD upsert, new", BATCH
    )
    peer_bodies = [
        orjson.dumps(
            {
                "id": f"urn:ngsi-ld:AccessPoint:peer-{n:06d}",
                "name": f"Điểm phát {n}",
                "location": {"type": "Point", "coordinates": [106.65, 10.98]},
                "attributes": {"floor": n % 10},
            }
        )
        for n in range(args.peer_entities)
    ]
    peer_create = timed_batches(client, "/api/entities", peer_bodies, "(peer a) POST /api/entities", 1)
    updates = [
        orjson.dumps(
            [
                {
                    "id": f"urn:ngsi-ld:AccessPoint:bench-{n:06d}",
                    "type": "AccessPoint",
                    "activeUsers": {
                        "type": "Property",
                        "value": (n * 7) % 100,
                        "observedAt": iso(NOW_MS + 60_000),
                    },
                }
                for n in range(start, start + BATCH)
            ]
        )
        for start in range(0, count, BATCH)
    ]
    update_rate = timed_batches(
        client,
        "/ngsi-ld/v1/entityOperations/upsert?options=update",
        updates,
        "(b) NGSI-LD upsert, values",
        BATCH,
    )
    points = [
        orjson.dumps(
            {
                "points": [
                    {
                        "entity": f"urn:ngsi-ld:AccessPoint:bench-{n:06d}",
                        "metric": "activeUsers",
                        "time": NOW_MS + 120_000,
                        "value": (n * 3) % 100,
                    }
                    for n in range(start, start + BATCH)
                ]
            }
        )
        for start in range(0, count, BATCH)
    ]
    ingest_rate = timed_batches(client, "/api/ingest", points, "(peer b) POST /api/ingest", BATCH)

    print("(c) query latency")
    entities_url = "/ngsi-ld/v1/entities"
    queries: dict[str, Callable[[int], httpx.Response]] = {
        "q floor==k (10 % of entities, first page)": lambda i: client.get(
            entities_url, params={"type": "AccessPoint", "q": f"floor=={i % 10}", "count": "true"}
        ),
        "q activeUsers>k;floor<2 (metric and attribute)": lambda i: client.get(
            entities_url,
            params={
                "type": "AccessPoint",
                "q": f"activeUsers>{90 - i % 10};floor<2",
                "count": "true",
            },
        ),
        "geoQ near;maxDistance==500": lambda i: client.get(
            entities_url,
            params={
                "type": "AccessPoint",
                "georel": "near;maxDistance==500",
                "geometry": "Point",
                "coordinates": f"[{WEST + 0.01 * (i + 1)},{SOUTH + 0.01 * (i + 1)}]",
                "count": "true",
            },
        ),
        "geoQ within a 2 km box": lambda i: client.get(
            entities_url,
            params={
                "type": "AccessPoint",
                "georel": "within",
                "geometry": "Polygon",
                "coordinates": orjson.dumps(box(WEST + 0.01 * (i + 1), SOUTH + 0.01 * (i + 1))).decode(),
                "count": "true",
            },
        ),
        "(peer) GET /api/entities?type=AccessPoint (all, GeoJSON)": lambda i: client.get(
            "/api/entities", params={"type": "AccessPoint"}
        ),
    }
    results = {}
    for label, request in queries.items():
        runs = args.queries if "peer" not in label else max(3, args.queries // 4)
        results[label] = latency(client, runs, request)
        p50, p99, found = results[label]
        print(f"  {label}: p50 {p50:,.0f} ms, p99 {p99:,.0f} ms ({found:,} matched last)")
    return create_rate, peer_create, update_rate, ingest_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--peer-entities", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--notify-entities", type=int, default=1000)
    parser.add_argument("--notify-batch", type=int, default=50)
    parser.add_argument("--notify-seconds", type=float, default=12.0, help="each of the four phases")
    parser.add_argument("--notify-rounds-per-s", type=float, default=0.5, help="the paced phases")
    parser.add_argument("--only-notifications", action="store_true", help="part (d) alone (about 1 minute)")
    args = parser.parse_args()
    count = args.entities // BATCH * BATCH
    os.environ["CITYOPS_OUTBOUND_PRIVATE_ALLOWED"] = "true"  # the notification receiver is on loopback
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        Kernel.open(url, node_modules=REPO / "node_modules").engine.dispose()
        auth = operator_headers(url)
        port = args.port or free_port()
        server = start_server(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            json_headers = {**auth, "content-type": "application/json"}
            with httpx.Client(base_url=base, timeout=600, headers=json_headers) as client:
                if not args.only_notifications:
                    rates = bulk(client, count, args)
                notified = measure_notifications(
                    client,
                    args.subscriptions,
                    args.notify_entities,
                    args.notify_batch,
                    args.notify_seconds,
                    args.notify_rounds_per_s,
                    iso,
                )
        finally:
            server.terminate()
            server.wait(30)
    print()
    if not args.only_notifications:
        report_bulk(*rates)
    report_notifications(notified)


def report_bulk(create_rate: float, peer_create: float, update_rate: float, ingest_rate: float) -> None:
    print(f"(a) NGSI-LD upsert creating entities: {create_rate:,.0f} entities/s")
    print(
        f"    peer POST /api/entities:          {peer_create:,.0f} entities/s  ratio {create_rate / peer_create:.2f}x"
    )
    print(f"(b) NGSI-LD upsert of values:        {update_rate:,.0f} entities/s")
    print(
        f"    peer POST /api/ingest:            {ingest_rate:,.0f} points/s  ratio {update_rate / ingest_rate:.2f}x"
    )


def box(lon: float, lat: float) -> list[list[list[float]]]:
    d_lon, d_lat = 0.0183, 0.018  # about 2 km
    return [[[lon, lat], [lon + d_lon, lat], [lon + d_lon, lat + d_lat], [lon, lat + d_lat], [lon, lat]]]


if __name__ == "__main__":
    main()
