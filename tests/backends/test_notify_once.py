"""Two API servers on one NATS bus (a real nats-server) and one NGSI-LD subscription to a real HTTP
endpoint on loopback: every server sees every change, yet each change is notified once, whichever server
took the write; a server killed while holding changes leaves them to the other one."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from cityops.core.kernel import Kernel

from ..conftest import wait_for
from ..ngsild.endpoint import Endpoint
from .conftest import CityopsProcess, NatsNode, Start, wait_until_running

CAMERA = "urn:ngsi-ld:Camera:tdm-001"
NEW_CAMERA = "urn:ngsi-ld:Camera:notify-once"
RELOAD_S = 2.5  # a subscription made on one server reaches the other within notifications.RELOAD_S


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    running = Endpoint()
    yield running
    running.server.shutdown()


def cluster(start_cityops: Start, nats_node: NatsNode) -> tuple[CityopsProcess, CityopsProcess]:
    first = start_cityops("api", [nats_node], wait=False, outbound_private_allowed="true")
    second = start_cityops("api", [nats_node], wait=False, outbound_private_allowed="true")
    recorder = start_cityops("recorder", [nats_node], wait=False)
    for process in (first, second, recorder):
        wait_until_running(process)
    return first, second


def subscribe(base: str, endpoint: Endpoint, headers: dict[str, str], throttling: float = 0) -> str:
    body = {
        "type": "Subscription",
        "entities": [{"type": "Camera"}],
        "watchedAttributes": ["intensity", "name"],
        "throttling": throttling,
        "notification": {"endpoint": {"uri": endpoint.url}, "format": "keyValues"},
    }
    answer = httpx.post(f"{base}/ngsi-ld/v1/subscriptions", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.headers["location"])


def record(base: str, headers: dict[str, str], value: int) -> None:
    point = {"entity": CAMERA, "metric": "intensity", "time": int(time.time() * 1000), "value": value}
    answer = httpx.post(f"{base}/api/ingest", json={"points": [point]}, headers=headers)
    assert answer.status_code == 202, answer.text


def intensities(endpoint: Endpoint) -> list[int]:
    return [int(e["intensity"]) for e in endpoint.data() if e["id"] == CAMERA and "intensity" in e]


def test_each_change_is_notified_once_across_two_api_servers(
    kernel: Kernel,
    nats_node: NatsNode,
    start_cityops: Start,
    auth_headers: dict[str, str],
    endpoint: Endpoint,
) -> None:
    first, second = cluster(start_cityops, nats_node)
    location = subscribe(first.base, endpoint, auth_headers)
    time.sleep(RELOAD_S)
    values = list(range(101, 109))
    for n, value in enumerate(values):  # one change at a time, through either server
        record((first, second)[n % 2].base, auth_headers, value)
        wait_for(f"value {value} notified", lambda v=value: v in intensities(endpoint), timeout=30)  # type: ignore[misc]
    created = httpx.post(
        f"{second.base}/api/entities",
        json={
            "id": NEW_CAMERA,
            "name": "Camera một lần",
            "location": {"type": "Point", "coordinates": [106.7, 10.9]},
        },
        headers=auth_headers,
    )
    assert created.status_code == 201, created.text
    wait_for(
        "the new camera notified", lambda: any(e["id"] == NEW_CAMERA for e in endpoint.data()), timeout=30
    )
    time.sleep(3)  # a second server's copy would have come by now

    assert intensities(endpoint) == values  # each change once, in order
    assert [e["id"] for e in endpoint.data()].count(NEW_CAMERA) == 1
    assert len(endpoint.received) == len(values) + 1
    shown = httpx.get(f"{second.base}{location}", headers=auth_headers).json()
    assert shown["notification"]["timesSent"] == len(values) + 1


def test_a_change_held_by_killed_servers_is_sent_by_a_new_one(
    kernel: Kernel,
    nats_node: NatsNode,
    start_cityops: Start,
    auth_headers: dict[str, str],
    endpoint: Endpoint,
) -> None:
    first, second = cluster(start_cityops, nats_node)
    subscribe(first.base, endpoint, auth_headers)
    time.sleep(RELOAD_S)
    endpoint.failing = 1000  # the endpoint is down: the server holding the change retries...
    record(first.base, auth_headers, 7)
    wait_for("a first attempt", lambda: endpoint.failing < 1000, timeout=30)
    for process in (first, second):  # ...and dies (both do) before the change went
        process.kill()
    endpoint.failing = 0
    assert intensities(endpoint) == []
    start_cityops("api", [nats_node], outbound_private_allowed="true")
    # JetStream gives the unacknowledged change to the new server once the dead one's claim lapses
    wait_for("the change sent by the new server", lambda: intensities(endpoint), timeout=120)
    time.sleep(2)
    assert intensities(endpoint) == [7]
