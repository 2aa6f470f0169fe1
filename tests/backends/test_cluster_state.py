"""Two API servers on one NATS bus and one store, as behind a load balancer: what is done on one holds on
the other within seconds — a web session and its logout, the login and report-submission rate limits
(counted in the store), a rule edit (taken in by the other server and by the rule evaluator), an alert
raised by the evaluator, an incident's move."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.kernel import Kernel

from ..conftest import wait_for
from .conftest import NatsNode, Start, wait_until_running

PASSWORD = "mật khẩu đủ dài 2026"
REPORT = {
    "service_code": "lighting",
    "description": "Đèn đường trên đại lộ Bình Dương bị tắt cả tuần nay",
    "address_string": "Đại lộ Bình Dương, phường Phú Cường",
}
RULE: dict[str, Any] = {
    "id": "busy-cluster",
    "kind": "threshold",
    "title": {"vi": "Đông xe", "en": "Busy", "ja": "混雑"},
    "category": "traffic",
    "entity_type": "Camera",
    "metric": "intensity",
    "op": ">",
    "value": 50,
}
CAMERA = "urn:ngsi-ld:Camera:tdm-001"


def cookie_header(response: httpx.Response) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in response.cookies.items())}


def test_sessions_and_rate_limits_hold_across_api_servers(
    kernel: Kernel, nats_node: NatsNode, start_cityops: Start
) -> None:
    with kernel.engine.begin() as conn:
        create_user(conn, NewUser("dieu.phoi", Role.OPERATOR, password=PASSWORD), actor="tests")
    limits = {
        "access": orjson.dumps({"login_limit_per_account": "3/minute"}).decode(),
        "reports_submission_limit": "2/minute",
    }
    first = start_cityops("api", [nats_node], wait=False, **limits)
    second = start_cityops("api", [nats_node], **limits)
    wait_until_running(first)

    # A session made on the first server works on the second; a logout on the first ends it there.
    login = httpx.post(f"{first.base}/api/auth/login", json={"username": "dieu.phoi", "password": PASSWORD})
    assert login.status_code == 200, login.text
    session = cookie_header(login)
    me = httpx.get(f"{second.base}/api/auth/me", headers=session)
    assert me.status_code == 200 and me.json()["via"] == "session" and me.json()["username"] == "dieu.phoi"
    out = httpx.post(
        f"{first.base}/api/auth/logout", headers={**session, "X-CSRF-Token": login.json()["csrf_token"]}
    )
    assert out.status_code == 204, out.text
    assert httpx.get(f"{second.base}/api/auth/me", headers=session).status_code == 401

    # Failed logins count on both servers together: three failures spread over them lock the account.
    def attempt(server: str, password: str = "sai mật khẩu rồi") -> int:
        body = {"username": "dieu.phoi", "password": password}
        return httpx.post(f"{server}/api/auth/login", json=body).status_code

    assert [attempt(first.base), attempt(second.base), attempt(first.base)] == [401, 401, 401]
    refused = httpx.post(
        f"{second.base}/api/auth/login", json={"username": "dieu.phoi", "password": PASSWORD}
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1

    # So do public report submissions from one address.
    def submit(server: str) -> int:
        return httpx.post(f"{server}/api/reports/public/requests", data=REPORT).status_code

    assert [submit(first.base), submit(second.base), submit(first.base), submit(second.base)] == [
        201,
        201,
        429,
        429,
    ]


def test_rule_edits_alerts_and_incidents_hold_across_api_servers(
    kernel: Kernel, nats_node: NatsNode, start_cityops: Start, auth_headers: dict[str, str]
) -> None:
    processes = [
        start_cityops("api", [nats_node], wait=False),
        start_cityops("api", [nats_node], wait=False),
        start_cityops("recorder", [nats_node], wait=False),
        start_cityops("rules", [nats_node], wait=False),
    ]
    for process in processes:
        wait_until_running(process)
    first, second = (httpx.Client(base_url=p.base, headers=auth_headers, timeout=30) for p in processes[:2])

    # A rule made on the first server is listed by the second, and the evaluator applies it.
    assert first.post("/api/rules", json=RULE).status_code == 201
    wait_for("the rule on the second server", lambda: second.get(f"/api/rules/{RULE['id']}").is_success, 10)
    point = {"entity": CAMERA, "metric": "intensity", "time": int(time.time() * 1000), "value": 99}
    assert second.post("/api/ingest", json={"points": [point]}).status_code == 202

    def alerts(client: httpx.Client, state: str = "open") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = client.get(
            "/api/alerts", params={"state": state, "rule": RULE["id"]}
        ).json()["items"]
        return found

    [alert] = wait_for("the alert on the first server", lambda: alerts(first), timeout=30)
    assert alert["alertSource"] == CAMERA and alert["data"]["value"] == 99

    # An incident opened from it on the first server, moved on the second, is seen moved on the first.
    opened = first.post(f"/api/alerts/{alert['alertId']}/incident", json={})
    assert opened.status_code == 200, opened.text
    incident_id = opened.json()["id"]
    moved = second.post(f"/api/incidents/{incident_id}/transitions", json={"to": "acknowledged"})
    assert moved.status_code == 200, moved.text
    assert first.get(f"/api/incidents/{incident_id}").json()["state"] == "acknowledged"

    # A rule replaced on the second server reaches the first, and the evaluator: it clears the alert (a
    # changed rule starts afresh). Deleted on the first, the rule is gone from the second.
    stricter = {**RULE, "value": 200}
    assert second.put(f"/api/rules/{RULE['id']}", json=stricter).status_code == 200
    wait_for(
        "the replaced rule on the first server",
        lambda: first.get(f"/api/rules/{RULE['id']}").json()["value"] == 200,
        timeout=10,
    )
    wait_for("the alert cleared by the evaluator", lambda: not alerts(first), timeout=10)
    [cleared] = alerts(second, "cleared")
    assert cleared["alertId"] == alert["alertId"]  # raised once, by the one evaluator
    assert cleared["data"]["clearReason"] == "rule_changed"
    assert first.delete(f"/api/rules/{RULE['id']}").status_code == 204
    wait_for(
        "the rule gone on the second", lambda: second.get(f"/api/rules/{RULE['id']}").status_code == 404, 10
    )
    first.close()
    second.close()
