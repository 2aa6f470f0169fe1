"""Two API servers on one NATS bus: each one's live feed shows what was recorded through the other, and
an entity created on one takes data on the other."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from cityops.core.kernel import Kernel

from ..conftest import FeedListener, Until
from .conftest import NatsNode, Start, wait_until_running
from .test_ingest_queue import points

Listen = Callable[[str, dict[str, str], Until], FeedListener]
CAMERA = "urn:ngsi-ld:Camera:cluster-1"


def test_each_api_server_sees_the_others_recorded_events(
    kernel: Kernel,
    nats_node: NatsNode,
    start_cityops: Start,
    auth_headers: dict[str, str],
    feed_listener: Listen,
) -> None:
    first = start_cityops("api", [nats_node], wait=False)
    second = start_cityops("api", [nats_node], wait=False)
    recorder = start_cityops("recorder", [nats_node], wait=False)
    for process in (first, second, recorder):
        wait_until_running(process)
    found: dict[str, Any] = {}

    def batch_seen(name: str, data: dict[str, Any]) -> bool:
        return name == "observations" and data["batch_id"] == found.get("batch_id")

    on_first = feed_listener(first.base, auth_headers, batch_seen)
    on_second = feed_listener(second.base, auth_headers, batch_seen)
    response = httpx.post(
        f"{first.base}/api/ingest", json={"points": points(int(time.time() * 1000), 20)}, headers=auth_headers
    )
    assert response.status_code == 202, response.text
    found["batch_id"] = response.json()["batch_id"]
    for listener in (on_first, on_second):
        assert listener.done.wait(30), (
            f"batch not on a feed: {listener.events[-5:]} {recorder.log.read_text()}"
        )
        [(_, data)] = [(n, d) for n, d in listener.events if batch_seen(n, d)]
        assert data["points"] == 20
        assert data["series"][0]["entity"] == "urn:ngsi-ld:Camera:tdm-001"

    # A camera registered on the second server shows on the first one's feed and takes data there.
    entity_on_first = feed_listener(
        first.base, auth_headers, lambda name, data: name == "entity" and data["urn"] == CAMERA
    )
    created = httpx.post(
        f"{second.base}/api/entities",
        json={
            "id": CAMERA,
            "name": "Camera cụm 1",
            "location": {"type": "Point", "coordinates": [106.7, 10.78]},
        },
        headers=auth_headers,
    )
    assert created.status_code == 201, created.text
    assert entity_on_first.done.wait(30), "the new camera never reached the first server's feed"
    point = {"entity": CAMERA, "metric": "intensity", "time": int(time.time() * 1000), "value": 3}
    taken = httpx.post(f"{first.base}/api/ingest", json={"points": [point]}, headers=auth_headers)
    assert taken.status_code == 202, taken.text
