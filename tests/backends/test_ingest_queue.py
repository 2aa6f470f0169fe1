"""Ingestion through NATS JetStream: 202 only once the stream holds the batch, recorders store it."""

from __future__ import annotations

import asyncio
import time

import httpx
import nats
from nats.js.errors import NotFoundError
from sqlalchemy import func, select

from cityops.backends.jetstream import INGEST_STREAM
from cityops.backends.wire import decode_batch
from cityops.core.kernel import Kernel
from cityops.core.schema import batches, observations

from ..conftest import wait_for
from .conftest import NatsNode, Start

URN = "urn:ngsi-ld:Camera:tdm-001"


def points(start_ms: int, count: int) -> list[dict[str, object]]:
    return [
        {"entity": URN, "metric": "intensity", "time": start_ms + i, "value": i % 97} for i in range(count)
    ]


async def stream_messages(node: NatsNode) -> list[bytes]:
    nc = await nats.connect(node.url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(INGEST_STREAM)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                found.append((await js.get_msg(INGEST_STREAM, seq)).data or b"")
            except NotFoundError:  # acknowledged meanwhile, so removed from the work queue
                continue
        return found
    finally:
        await nc.close()


def stored_batches(kernel: Kernel) -> dict[int, int]:
    with kernel.engine.connect() as conn:
        return {row.id: row.points for row in conn.execute(select(batches.c.id, batches.c.points))}


def test_202_only_once_the_stream_holds_the_batch(
    kernel: Kernel, nats_node: NatsNode, start_cityops: Start, auth_headers: dict[str, str]
) -> None:
    api = start_cityops("api", [nats_node])
    now = int(time.time() * 1000)
    response = httpx.post(f"{api.base}/api/ingest", json={"points": points(now, 500)}, headers=auth_headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["queued"] is True and body["points"] == 500 and body["duplicates"] is None
    # No recorder runs: the batch is in the stream, whole, and not yet in the store.
    [message] = asyncio.run(stream_messages(nats_node))
    queued = decode_batch(message)
    assert queued.batch_id == body["batch_id"]
    assert queued.batch.ts_ms == list(range(now, now + 500))
    assert body["batch_id"] not in stored_batches(kernel)

    # With the server gone, nothing is acknowledged: the client hears 503 and sends it again later.
    nats_node.kill()
    refused = httpx.post(
        f"{api.base}/api/ingest", json={"points": points(now + 1000, 10)}, headers=auth_headers, timeout=30
    )
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert "send it again" in refused.json()["detail"][0]["msg"]

    # Restarted on its store, the server still holds the first batch; a recorder now stores it once.
    nats_node.start()
    wait_for("nats-server back", nats_node.healthy, timeout=30)
    start_cityops("recorder", [nats_node])
    wait_for("the queued batch stored", lambda: body["batch_id"] in stored_batches(kernel), timeout=30)
    assert stored_batches(kernel)[body["batch_id"]] == 500
    # The refused batch may still have reached the stream (the client library sends what it buffered
    # while reconnecting): sending it again is safe, its points are stored once either way.
    resent = httpx.post(
        f"{api.base}/api/ingest", json={"points": points(now + 1000, 10)}, headers=auth_headers
    )
    assert resent.status_code == 202, resent.text
    wait_for("the work queue drained", lambda: asyncio.run(stream_messages(nats_node)) == [], timeout=30)
    wait_for(
        "the resent batch stored", lambda: resent.json()["batch_id"] in stored_batches(kernel), timeout=30
    )
    with kernel.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 510


def test_all_role_queues_and_records_in_one_process(
    kernel: Kernel, nats_node: NatsNode, start_cityops: Start, auth_headers: dict[str, str]
) -> None:
    server = start_cityops("all", [nats_node])
    now = int(time.time() * 1000)
    sent = [
        httpx.post(
            f"{server.base}/api/ingest", json={"points": points(now + 10_000 * i, 300)}, headers=auth_headers
        )
        for i in range(5)
    ]
    ids = {r.json()["batch_id"] for r in sent if r.status_code == 202}
    assert len(ids) == 5
    wait_for("five batches stored", lambda: ids <= stored_batches(kernel).keys(), timeout=30)
    with kernel.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 1500
