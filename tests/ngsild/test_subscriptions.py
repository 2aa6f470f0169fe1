"""NGSI-LD subscriptions against a real HTTP endpoint on loopback: notified on the changes watched and only
when `q` holds, in the format and with the attributes asked; throttled changes gathered, not dropped;
`timeInterval` periodic; failed deliveries retried and recorded; bad subscriptions refused naming the member;
endpoints on private addresses refused unless the installation allows them."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.access.accounts import Role
from cityops.core.kernel import Kernel
from cityops.core.outbound import IPAddress

from ..conftest import HeadersFor, wait_for
from .endpoint import Endpoint

BASE = "/ngsi-ld/v1"
CAMERA = "urn:ngsi-ld:Camera:tdm-001"


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    running = Endpoint()
    yield running
    running.server.shutdown()


@pytest.fixture
def open_app(kernel: Kernel, settings: Settings) -> FastAPI:
    return create_app(kernel, settings.model_copy(update={"outbound_private_allowed": True}))


@pytest.fixture
def subscriber(open_app: FastAPI, auth_headers: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(open_app, headers=auth_headers) as client:
        open_app.state.ngsild_notifier.retry_seconds = (0.1, 0.2)
        yield client


def subscribe(client: TestClient, endpoint: Endpoint, **members: Any) -> str:
    body = {
        "type": "Subscription",
        "entities": [{"type": "Camera"}],
        "notification": {"endpoint": {"uri": endpoint.url}},
        **members,
    }
    answer = client.post(f"{BASE}/subscriptions", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.headers["location"].rsplit("/", 1)[1])


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def record(client: TestClient, value: float, offset_s: int = 0, metric: str = "intensity") -> None:
    point = {
        "entity": CAMERA,
        "metric": metric,
        "time": int(time.time() * 1000) - 1000 + offset_s,
        "value": value,
    }
    assert client.post("/api/ingest", json={"points": [point]}).status_code == 202


def test_a_watched_change_that_matches_q_is_notified(subscriber: TestClient, endpoint: Endpoint) -> None:
    subscribe(
        subscriber,
        endpoint,
        watchedAttributes=["intensity"],
        q="intensity>10",
        notification={"endpoint": {"uri": endpoint.url}, "format": "keyValues", "attributes": ["intensity"]},
    )
    record(subscriber, 5)  # q does not hold: nothing
    record(subscriber, 3, offset_s=1, metric="occupancy")  # not watched: nothing
    record(subscriber, 42, offset_s=2)
    wait_for("a notification", lambda: endpoint.received, timeout=10)
    time.sleep(0.5)
    assert len(endpoint.received) == 1
    notification = endpoint.received[0]
    assert notification["type"] == "Notification" and notification["id"].startswith(
        "urn:ngsi-ld:Notification:"
    )
    assert notification["data"] == [{"id": CAMERA, "type": "Camera", "intensity": 42}]
    assert "json-ld#context" in endpoint.headers[0]["Link"]


def test_throttled_changes_are_gathered_not_dropped(subscriber: TestClient, endpoint: Endpoint) -> None:
    subscribe(subscriber, endpoint, watchedAttributes=["intensity"], throttling=2)
    record(subscriber, 1)
    wait_for("the first notification", lambda: endpoint.received, timeout=10)
    record(subscriber, 2, offset_s=1)
    record(subscriber, 3, offset_s=2)
    wait_for("the gathered notification", lambda: len(endpoint.received) == 2, timeout=10)
    first, second = endpoint.received
    assert first["data"][0]["intensity"]["value"] == 1
    assert [e["intensity"]["value"] for e in second["data"]] == [3]  # newest state, once
    gap = moment(second["notifiedAt"]) - moment(first["notifiedAt"])
    assert gap >= 1.9  # not before the throttling window ended


def test_time_interval_sends_the_matching_entities_periodically(
    subscriber: TestClient, endpoint: Endpoint
) -> None:
    subscribe(subscriber, endpoint, entities=[{"type": "Camera", "id": CAMERA}], timeInterval=1)
    wait_for("two periodic notifications", lambda: len(endpoint.received) >= 2, timeout=10)
    assert {e["id"] for e in endpoint.data()} == {CAMERA}


def test_failed_deliveries_are_retried_and_recorded(subscriber: TestClient, endpoint: Endpoint) -> None:
    endpoint.failing = 2
    made = subscribe(subscriber, endpoint, watchedAttributes=["intensity"])
    record(subscriber, 7)
    wait_for("the notification after two failures", lambda: endpoint.received, timeout=10)
    status = wait_for(
        "the record",
        lambda: (
            (s := subscriber.get(f"{BASE}/subscriptions/{made}").json())["notification"].get("lastSuccess")
            and s
        ),
        timeout=5,
    )
    assert status["notification"]["timesSent"] == 1 and status["notification"]["timesFailed"] == 0
    assert status["notification"]["status"] == "ok" and status["status"] == "active"

    endpoint.failing = 100  # down for good: every attempt fails
    record(subscriber, 8, offset_s=1)
    failed = wait_for(
        "the failure",
        lambda: (
            (s := subscriber.get(f"{BASE}/subscriptions/{made}").json())["notification"].get("lastFailure")
            and s
        ),
        timeout=10,
    )
    assert failed["notification"]["timesFailed"] >= 1 and failed["notification"]["status"] == "failed"


def test_changes_wait_out_an_endpoint_that_refuses_for_a_while(
    subscriber: TestClient, endpoint: Endpoint
) -> None:
    """More refusals than one notification's retries: the change is kept and arrives once it recovers."""
    made = subscribe(subscriber, endpoint, watchedAttributes=["intensity"])
    endpoint.failing = 8  # each notification tries 3 times here (retry_seconds = 0.1, 0.2)
    record(subscriber, 9)
    wait_for("the value after the endpoint recovered", lambda: endpoint.received, timeout=20)
    assert [e["intensity"]["value"] for e in endpoint.data()] == [9]
    status = subscriber.get(f"{BASE}/subscriptions/{made}").json()["notification"]
    assert status["timesFailed"] >= 2 and status.get("lastFailure")


def test_subscriptions_are_listed_changed_paused_and_deleted(
    subscriber: TestClient, endpoint: Endpoint
) -> None:
    made = subscribe(subscriber, endpoint, watchedAttributes=["intensity"], description="Lưu lượng")
    listed = subscriber.get(f"{BASE}/subscriptions", params={"count": "true"})
    assert listed.headers["NGSILD-Results-Count"] == "1" and listed.json()[0]["id"] == made
    assert subscriber.patch(f"{BASE}/subscriptions/{made}", json={"isActive": False}).status_code == 204
    assert subscriber.get(f"{BASE}/subscriptions/{made}").json()["status"] == "paused"
    record(subscriber, 9)
    time.sleep(1)
    assert endpoint.received == []  # paused: nothing sent
    assert subscriber.delete(f"{BASE}/subscriptions/{made}").status_code == 204
    assert subscriber.get(f"{BASE}/subscriptions/{made}").status_code == 404


@pytest.mark.parametrize(
    ("change", "member"),
    [
        ({"type": "Subscriptions"}, "type"),
        ({"entities": [], "watchedAttributes": None}, "entities"),
        ({"q": "intensity>>"}, "q"),
        ({"notification": {"endpoint": {"uri": "file:///etc/passwd"}}}, "notification.endpoint.uri"),
        (
            {"notification": {"endpoint": {"uri": "http://169.254.169.254/latest"}}},
            "notification.endpoint.uri",
        ),
        ({"notification": {"endpoint": {"uri": "http://x.test/"}, "format": "xml"}}, "notification.format"),
        ({"timeInterval": 0.1}, "timeInterval"),
        ({"timeInterval": 5, "watchedAttributes": ["intensity"]}, "timeInterval"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"throttling": -1}, "throttling"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_member(
    subscriber: TestClient, endpoint: Endpoint, change: dict[str, Any], member: str
) -> None:
    body = {
        "type": "Subscription",
        "entities": [{"type": "Camera"}],
        "notification": {"endpoint": {"uri": endpoint.url}},
    }
    body.update(change)
    answer = subscriber.post(f"{BASE}/subscriptions", json={k: v for k, v in body.items() if v is not None})
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["type"].endswith("/BadRequestData") and problem["detail"].startswith(member), problem


def test_private_endpoints_need_the_installations_consent(
    client: TestClient, endpoint: Endpoint, headers_for: HeadersFor
) -> None:
    body = {
        "type": "Subscription",
        "entities": [{"type": "Camera"}],
        "notification": {"endpoint": {"uri": endpoint.url}},
    }
    refused = client.post(f"{BASE}/subscriptions", json=body)
    assert refused.status_code == 400 and "outbound_private_allowed" in refused.json()["detail"]
    leader = headers_for(Role.LEADER)
    assert client.get(f"{BASE}/subscriptions", headers=leader).status_code == 403


def answers(*replies: str) -> Callable[[str], list[IPAddress]]:
    """A resolver that gives each reply in turn (the last one from then on), as a rebinding DNS does."""
    queue = [[ipaddress.ip_address(reply)] for reply in replies]
    return lambda _host: queue.pop(0) if len(queue) > 1 else queue[0]


def named(endpoint: Endpoint, host: str) -> str:
    return endpoint.url.replace("127.0.0.1", host)


def test_a_notification_goes_to_the_address_that_was_checked(
    subscriber: TestClient, open_app: FastAPI, endpoint: Endpoint
) -> None:
    """Checked, the name is this machine (allowed here); a moment later it is elsewhere: the notification
    still comes here, with the name in Host (the name itself resolves nowhere: httpx never looked it up)."""
    open_app.state.ngsild_notifier.resolver = answers("127.0.0.1", "8.8.8.8")
    uri = named(endpoint, "hook.rebind.invalid")
    subscribe(subscriber, endpoint, watchedAttributes=["intensity"], notification={"endpoint": {"uri": uri}})
    record(subscriber, 9)
    wait_for("the notification", lambda: endpoint.received, timeout=10)
    assert endpoint.headers[0]["Host"] == f"hook.rebind.invalid:{endpoint.server.server_port}"


def test_a_name_rebound_to_loopback_gets_no_notification(
    client: TestClient, app: FastAPI, endpoint: Endpoint
) -> None:
    """Private targets not allowed; the name answers a public address when checked, loopback after: the
    notification goes to the public address (unreachable here) and fails, never to loopback."""
    app.state.ngsild_notifier.resolver = answers("8.8.8.8", "127.0.0.1")
    app.state.ngsild_notifier.retry_seconds = ()
    body = {
        "type": "Subscription",
        "entities": [{"type": "Camera"}],
        "watchedAttributes": ["intensity"],
        "notification": {"endpoint": {"uri": named(endpoint, "hook.rebind.invalid")}},
    }
    made = client.post(f"{BASE}/subscriptions", json=body)
    assert made.status_code == 201, made.text  # a name that does not resolve yet is let through
    record(client, 11)
    failed = wait_for(
        "the failure",
        lambda: (s := client.get(made.headers["location"]).json())["notification"].get("lastFailure") and s,
        timeout=15,
    )
    assert failed["notification"]["timesFailed"] == 1
    assert endpoint.received == []


def test_a_localhost_endpoint_is_refused(client: TestClient, endpoint: Endpoint) -> None:
    """`localhost` is loopback by its name (RFC 6761), whatever a resolver says."""
    body = {
        "type": "Subscription",
        "entities": [{"type": "Camera"}],
        "notification": {"endpoint": {"uri": named(endpoint, "localhost")}},
    }
    refused = client.post(f"{BASE}/subscriptions", json=body)
    assert refused.status_code == 400 and "outbound_private_allowed" in refused.json()["detail"]
