"""Moderation against a real server: two moderators approving the same report at the same moment (one
incident, the other a clear 409), and the staff routes used from a web session (cookie + CSRF header)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import HeadersFor

from cityops.core.access.accounts import Role
from cityops.core.access.schema import audit_log
from cityops.core.kernel import Kernel
from cityops.core.schema_operations import incidents
from cityops.reports.schema import reports

from .conftest import PNG, THU_DAU_MOT

REPORT = {
    "service_code": "road",
    "description": "Ổ gà lớn giữa đường Yersin, xe máy dễ ngã",
    "lat": str(THU_DAU_MOT[0]),
    "long": str(THU_DAU_MOT[1]),
}


def submit(base: str) -> int:
    answer = httpx.post(
        f"{base}/api/reports/public/requests", data=REPORT, files=[("media", ("ổ gà.png", PNG, "image/png"))]
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["service_request_id"])


def incidents_of(kernel: Kernel, report_id: int) -> list[int]:
    source = f"urn:ngsi-ld:Open311_ServiceRequest:{report_id}"
    with kernel.engine.connect() as conn:
        return [row.id for row in conn.execute(select(incidents.c.id).where(incidents.c.source == source))]


def audit_of(kernel: Kernel, report_id: int) -> list[tuple[str, str]]:
    with kernel.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.actor)
            .where(audit_log.c.object == f"report:{report_id}")
            .order_by(audit_log.c.id)
        ).all()
    return [(row.action, row.actor) for row in rows]


def race(base: str, report_id: int, moderators: list[dict[str, str]]) -> list[httpx.Response]:
    """Every moderator sends the approval at once, each from its own thread and connection."""
    start = threading.Barrier(len(moderators))
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def approve(headers: dict[str, str]) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            client.get("/api/auth/me").raise_for_status()  # connected and signed in before the start
            start.wait()
            answer = client.post(f"/api/reports/{report_id}/approve")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=approve, args=(headers,)) for headers in moderators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(moderators)
    return sorted(answers, key=lambda answer: answer.status_code)


@pytest.mark.parametrize("round_", range(3))
def test_two_moderators_approving_at_once_open_one_incident(
    live_server: str, kernel: Kernel, headers_for: HeadersFor, round_: int
) -> None:
    report_id = submit(live_server)
    first, second = headers_for(Role.OPERATOR), headers_for(Role.OPERATOR)
    won, lost = race(live_server, report_id, [first, second])

    assert (won.status_code, lost.status_code) == (200, 409), (won.text, lost.text)
    error = lost.json()["detail"][0]
    assert error["field"] == "status" and error["code"] == "not_pending"
    assert "approved" in error["text"]["en"] and "đã được kiểm duyệt" in error["text"]["vi"]
    opened = incidents_of(kernel, report_id)
    assert opened == [won.json()["incident_id"]]
    with kernel.engine.connect() as conn:
        row = conn.execute(select(reports).where(reports.c.id == report_id)).one()
    assert (row.status, row.incident_id) == ("approved", opened[0])
    winner = row.moderated_by
    assert audit_of(kernel, report_id) == [("report.submit", "public"), ("report.approve", winner)]


Session = tuple[httpx.Client, str]


@pytest.fixture
def session(live_server: str, browser_account: Any) -> Any:
    """A web session of an operator: the client keeps the cookies; the CSRF token beside it."""
    with httpx.Client(base_url=live_server, timeout=10) as client:
        login = client.post(
            "/api/auth/login",
            json={"username": browser_account.username, "password": browser_account.password},
        )
        login.raise_for_status()
        assert client.cookies.get("cityops_session") and client.cookies.get("cityops_csrf")
        yield client, login.json()["csrf_token"]


@pytest.mark.parametrize("sent", [None, "", "wrong-token"])
def test_staff_changes_over_a_session_need_the_csrf_header(
    session: Session, live_server: str, kernel: Kernel, sent: str | None
) -> None:
    client, _ = session
    report_id = submit(live_server)
    headers = {} if sent is None else {"X-CSRF-Token": sent}
    assert client.get("/api/reports/queue").status_code == 200  # reading needs no token
    refused = [
        client.patch(f"/api/reports/{report_id}", json={"address_string": "Đường Yersin"}, headers=headers),
        client.post(f"/api/reports/{report_id}/refuse", json={"reason": "Trùng lặp"}, headers=headers),
        client.post(f"/api/reports/{report_id}/approve", headers=headers),
    ]
    for answer in refused:
        assert answer.status_code == 403, answer.text
        assert answer.json()["detail"]["code"] == "csrf_failed"
    with kernel.engine.connect() as conn:
        row = conn.execute(select(reports).where(reports.c.id == report_id)).one()
    assert (row.status, row.address) == ("pending", None)
    assert audit_of(kernel, report_id) == [("report.submit", "public")]
    assert client.get(f"/api/reports/{report_id}").json()["status"] == "pending"


def test_staff_routes_work_over_a_session_with_the_right_token(
    session: Session, live_server: str, kernel: Kernel, browser_account: Any
) -> None:
    client, csrf = session
    right = {"X-CSRF-Token": csrf}
    kept, dropped = submit(live_server), submit(live_server)
    edited = client.patch(f"/api/reports/{kept}", json={"address_string": "Số 1 đường Yersin"}, headers=right)
    assert edited.status_code == 200, edited.text
    assert edited.json()["address"] == "Số 1 đường Yersin"
    approved = client.post(f"/api/reports/{kept}/approve", headers=right)
    assert approved.status_code == 200, approved.text
    assert incidents_of(kernel, kept) == [approved.json()["incident_id"]]
    refused = client.post(
        f"/api/reports/{dropped}/refuse", json={"reason": "Nội dung trùng lặp"}, headers=right
    )
    assert refused.status_code == 200, refused.text
    photo = client.get(f"/api/reports/{kept}/files/{approved.json()['files'][0]['id']}")
    assert photo.status_code == 200 and photo.content == PNG
    me = browser_account.username
    assert audit_of(kernel, kept) == [
        ("report.submit", "public"),
        ("report.edit", me),
        ("report.approve", me),
    ]
    assert audit_of(kernel, dropped) == [("report.submit", "public"), ("report.refuse", me)]
