"""Part (d) of benchmarks/ngsild.py: NGSI-LD notifications delivered/s and their delivery latency.

`--subscriptions` subscriptions each watch `activeUsers` of the same `--notify-entities` AccessPoints and
notify a real HTTP server on loopback (http.server, HTTP/1.1 keep-alive, in a thread of this process).
Updates go in rounds of `--notify-batch` entities (each round a new value of a slice of the entities, so
no value is folded into a newer one before it is sent) for `--notify-seconds`, first through
`POST /ngsi-ld/v1/entityOperations/upsert?options=update`, then (the peer, in the same run) through the
project's own ingestion path `POST /api/ingest`. Latency: from the start of the request that carried a
value to the moment the receiver has that value of that entity, for one subscription's copy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson

DRAIN_TIMEOUT_S = 60.0


@dataclass
class Receiver:
    """The subscriber's endpoint: notifications counted, each (subscription, entity, value) timed once."""

    notifications: int = 0
    entities: int = 0
    first_seen: dict[tuple[str, str, int], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, body: bytes) -> None:
        now = time.perf_counter()
        notification = orjson.loads(body)
        with self.lock:
            self.notifications += 1
            for entity in notification["data"]:
                self.entities += 1
                key = (notification["subscriptionId"], entity["id"], int(entity["activeUsers"]))
                self.first_seen.setdefault(key, now)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                receiver.take(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_port}/notify"


@dataclass(frozen=True)
class Delivery:
    updates_per_s: float  # entity values sent
    notifications_per_s: float  # notification POSTs received
    entities_per_s: float  # entity states received (all subscriptions)
    p50_ms: float
    p99_ms: float
    folded: int  # values replaced by a newer one of the entity before they went (sent in its newest state)
    missing: int  # values neither received nor replaced by a newer one received


def urn(n: int) -> str:
    return f"urn:ngsi-ld:AccessPoint:notify-{n:05d}"


def prepare(client: httpx.Client, entities: int, subscriptions: int, endpoint: str, iso: Any) -> list[str]:
    now = int(time.time() * 1000)
    batch = [
        {
            "id": urn(n),
            "type": "AccessPoint",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [106.65, 10.98]}},
            "activeUsers": {"type": "Property", "value": 0, "observedAt": iso(now - 600_000)},
        }
        for n in range(entities)
    ]
    client.post("/ngsi-ld/v1/entityOperations/upsert", content=orjson.dumps(batch)).raise_for_status()
    ids = []
    for i in range(subscriptions):
        body = {
            "id": f"urn:ngsi-ld:Subscription:bench-{i}",
            "type": "Subscription",
            "entities": [{"type": "AccessPoint", "idPattern": "notify-"}],
            "watchedAttributes": ["activeUsers"],
            "notification": {
                "endpoint": {"uri": endpoint},
                "format": "keyValues",
                "attributes": ["activeUsers"],
            },
        }
        response = client.post("/ngsi-ld/v1/subscriptions", content=orjson.dumps(body))
        if response.status_code != 201:
            raise RuntimeError(f"subscription: {response.status_code} {response.text[:300]}")
        ids.append(body["id"])
    return ids


def drive(
    client: httpx.Client,
    receiver: Receiver,
    subscriptions: list[str],
    label: str,
    seconds: float,
    entities: int,
    batch: int,
    first_value: int,
    send: Callable[[httpx.Client, list[int], int, int], None],
    rounds_per_s: float | None,
) -> Delivery:
    """Send rounds for `seconds` (as fast as the server takes them, or `rounds_per_s`), wait until every
    value reached every subscription (or the drain timeout), and measure."""
    sent: dict[int, tuple[float, list[int]]] = {}  # value -> (request start, entity numbers)
    before_notifications, before_entities = receiver.notifications, receiver.entities
    start = time.perf_counter()
    value = first_value
    while time.perf_counter() - start < seconds:
        if rounds_per_s is not None:
            time.sleep(max(0.0, start + (value - first_value) / rounds_per_s - time.perf_counter()))
        numbers = [(value * batch + k) % entities for k in range(batch)]
        began = time.perf_counter()
        send(client, numbers, value, int(time.time() * 1000))
        sent[value] = (began, numbers)
        value += 1
        done = len(sent) * batch
        if len(sent) % 20 == 0:
            print(
                f"\r  {label}: {done:,} values sent ({done / (time.perf_counter() - start):,.0f}/s)", end=""
            )
    sending_s = time.perf_counter() - start
    wanted = [(s, urn(n), v) for v, (_, numbers) in sent.items() for n in numbers for s in subscriptions]
    # Every (subscription, entity) must show its newest value: an older one is either received or folded
    # into it. Waiting for the last round only ended the count while other subscriptions' notifications
    # were still on their way, and counted them lost.
    newest_sent = {(s, e): v for s, e, v in wanted}  # rounds go in order: the last value wins
    finals = [(s, e, v) for (s, e), v in newest_sent.items()]
    deadline = time.perf_counter() + DRAIN_TIMEOUT_S
    while time.perf_counter() < deadline:
        with receiver.lock:
            if all(key in receiver.first_seen for key in finals):
                break
        time.sleep(0.2)
    time.sleep(0.5)  # stragglers from other rounds
    with receiver.lock:
        arrivals = {key: receiver.first_seen.get(key) for key in wanted}
        last = max((t for t in arrivals.values() if t is not None), default=start)
        notifications = receiver.notifications - before_notifications
        received = receiver.entities - before_entities
        newest: dict[tuple[str, str], int] = {}
        for s, e, v in receiver.first_seen:
            newest[(s, e)] = max(v, newest.get((s, e), v))
    latencies = sorted(t - sent[key[2]][0] for key, t in arrivals.items() if t is not None)
    unseen = [key for key, t in arrivals.items() if t is None]
    folded = sum(1 for s, e, v in unseen if newest.get((s, e), -1) > v)
    elapsed = max(last, start + sending_s) - start
    print(f"\r  {label}: {len(sent) * batch:,} values, {notifications:,} notifications received" + " " * 20)
    return Delivery(
        updates_per_s=len(sent) * batch / sending_s,
        notifications_per_s=notifications / elapsed,
        entities_per_s=received / elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
        p99_ms=latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))] * 1000
        if latencies
        else float("nan"),
        folded=folded,
        missing=len(unseen) - folded,
    )


def through_ngsild(iso: Any) -> Callable[[httpx.Client, list[int], int, int], None]:
    def send(client: httpx.Client, numbers: list[int], value: int, now_ms: int) -> None:
        body = [
            {
                "id": urn(n),
                "type": "AccessPoint",
                "activeUsers": {"type": "Property", "value": value, "observedAt": iso(now_ms)},
            }
            for n in numbers
        ]
        response = client.post(
            "/ngsi-ld/v1/entityOperations/upsert?options=update", content=orjson.dumps(body)
        )
        if response.status_code not in (200, 204):
            raise RuntimeError(f"upsert: {response.status_code} {response.text[:300]}")

    return send


def through_ingest(client: httpx.Client, numbers: list[int], value: int, now_ms: int) -> None:
    points = [{"entity": urn(n), "metric": "activeUsers", "time": now_ms, "value": value} for n in numbers]
    response = client.post("/api/ingest", content=orjson.dumps({"points": points}))
    if response.status_code != 202:
        raise RuntimeError(f"ingest: {response.status_code} {response.text[:300]}")


Phases = dict[str, Delivery]


def measure(
    client: httpx.Client,
    subscriptions: int,
    entities: int,
    batch: int,
    seconds: float,
    paced_rounds_per_s: float,
    iso: Any,
) -> Phases:
    """Saturated (values as fast as the server takes them: notifications delivered/s) and paced (below
    that: latency), each through NGSI-LD and through the ingestion path."""
    receiver = Receiver()
    server, endpoint = receiver.serve()
    phases: Phases = {}
    try:
        print(f"(d) notifications: {subscriptions} subscriptions on {entities} entities, {batch} a round")
        ids = prepare(client, entities, subscriptions, endpoint, iso)
        time.sleep(1.5)  # the server reads the new subscriptions
        plan = [
            ("(d) NGSI-LD upsert, saturated", through_ngsild(iso), None),
            ("(peer d) POST /api/ingest, saturated", through_ingest, None),
            (f"(d) NGSI-LD upsert, {paced_rounds_per_s:g} rounds/s", through_ngsild(iso), paced_rounds_per_s),
            (
                f"(peer d) POST /api/ingest, {paced_rounds_per_s:g} rounds/s",
                through_ingest,
                paced_rounds_per_s,
            ),
        ]
        for n, (label, send, rate) in enumerate(plan):
            phases[label] = drive(
                client, receiver, ids, label, seconds, entities, batch, n * 1_000_000 + 1, send, rate
            )
    finally:
        server.shutdown()
    return phases


def report(phases: Phases) -> None:
    for label, d in phases.items():
        print(
            f"{label}: {d.updates_per_s:,.0f} values/s sent, {d.notifications_per_s:,.1f} notifications/s, "
            f"{d.entities_per_s:,.0f} entity states/s delivered, latency p50 {d.p50_ms:,.0f} ms "
            f"p99 {d.p99_ms:,.0f} ms, {d.folded} folded into a newer value, {d.missing} lost"
        )
    ngsild, peer = list(phases.values())[:2]
    print(
        f"    saturated, entity states delivered/s NGSI-LD / ingest: {ngsild.entities_per_s / peer.entities_per_s:.2f}x"
    )
