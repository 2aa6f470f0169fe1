"""The moderation queue: approve (→ an incident of the agency in charge, public progress), edit, refuse;
every action audited; agency officers kept to their agency and areas; contact details never public."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import HeadersFor

from cityops.core.access.accounts import Role
from cityops.core.access.schema import audit_log
from cityops.core.kernel import Kernel

from .conftest import DI_AN, PNG, THU_DAU_MOT

CONTACT = {"name": "Trần Thị Bình", "email": "binh@example.vn", "phone": "0987654321"}


def submit(
    client: TestClient, where: tuple[float, float], code: str = "waste", text: str | None = None
) -> str:
    data = {
        "service_code": code,
        "description": text or "Rác thải đổ trộm tràn ra lòng đường gần chợ",
        "lat": str(where[0]),
        "long": str(where[1]),
        **CONTACT,
    }
    answer = client.post(
        "/api/reports/public/requests",
        data=data,
        files=[("media", ("ảnh.png", PNG, "image/png"))],
        headers={"Authorization": ""},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["service_request_id"])


def audit_actions(kernel: Kernel, report_id: str) -> list[tuple[str, str]]:
    with kernel.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.actor).where(audit_log.c.object == f"report:{report_id}")
        ).all()
    return [(r.action, r.actor) for r in rows]


def no_contact(value: Any) -> None:
    text = str(value)
    for secret in CONTACT.values():
        assert secret not in text


def test_approval_opens_an_assigned_incident_shown_publicly(client: TestClient, kernel: Kernel) -> None:
    report_id = submit(client, THU_DAU_MOT)
    queue = client.get("/api/reports/queue").json()
    assert [r["service_request_id"] for r in queue["items"]] == [report_id]
    assert queue["items"][0]["contact"]["email"] == CONTACT["email"]
    approved = client.post(f"/api/reports/{report_id}/approve")
    assert approved.status_code == 200, approved.text
    incident = client.get(f"/api/incidents/{approved.json()['incident_id']}").json()
    assert incident["state"] == "assigned" and incident["agency"] == "so-tai-nguyen-moi-truong"
    assert incident["area_code"] == "2025:25747"
    assert [a["content_type"] for a in incident["attachments"]] == ["image/png"]
    assert client.get("/api/reports/queue").json()["total"] == 0

    del client.headers["Authorization"]
    public = client.get(f"/api/reports/public/requests/{report_id}")
    assert public.status_code == 200
    assert public.json()["progress"] == "assigned" and public.json()["status"] == "open"
    no_contact(public.json())
    page = client.get(f"/api/reports/public/board/{report_id}")
    assert "Đang xử lý" in page.text
    # The agency by its name, the time as read in the province (UTC+7), never the code or UTC.
    assert "Sở Tài nguyên và Môi trường" in page.text and "so-tai-nguyen-moi-truong" not in page.text
    received = public.json()["requested_datetime"]
    local = datetime.fromisoformat(received.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert local.strftime("%H:%M %d/%m/%Y") in page.text
    no_contact(page.text)
    no_contact(client.get("/api/reports/public/board").text)
    no_contact(client.get("/api/reports/public/requests").json())
    assert audit_actions(kernel, report_id) == [("report.submit", "public"), ("report.approve", "test-admin")]


def test_progress_follows_the_incident(client: TestClient) -> None:
    report_id = submit(client, THU_DAU_MOT)
    incident_id = client.post(f"/api/reports/{report_id}/approve").json()["incident_id"]
    assert (
        client.post(f"/api/incidents/{incident_id}/transitions", json={"to": "resolved"}).status_code == 200
    )
    public = client.get(f"/api/reports/public/requests/{report_id}").json()
    assert (public["progress"], public["status"]) == ("resolved", "closed")


def test_refusal_needs_a_reason_and_is_never_published(client: TestClient, kernel: Kernel) -> None:
    report_id = submit(client, THU_DAU_MOT)
    assert client.post(f"/api/reports/{report_id}/refuse", json={"reason": ""}).status_code == 422
    refused = client.post(f"/api/reports/{report_id}/refuse", json={"reason": "Nội dung xúc phạm người khác"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert client.get(f"/api/reports/public/requests/{report_id}").status_code == 404
    assert client.post(f"/api/reports/{report_id}/approve").status_code == 409  # moderated once
    assert audit_actions(kernel, report_id)[-1] == ("report.refuse", "test-admin")


def test_an_edit_reroutes_and_is_audited_with_before_and_after(client: TestClient, kernel: Kernel) -> None:
    report_id = submit(client, THU_DAU_MOT)
    bad = client.patch(f"/api/reports/{report_id}", json={"description": "rac thai do trom tran ra duong"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "description"
    edited = client.patch(
        f"/api/reports/{report_id}",
        json={"service_code": "traffic", "description": "Xe tải đỗ sai quy định chắn lối đi"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["agency_responsible"] == "cong-an-tdm"
    with kernel.engine.connect() as conn:
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "report.edit")).one()
    assert entry.before["agency"] == "so-tai-nguyen-moi-truong" and entry.after["agency"] == "cong-an-tdm"
    no_contact(entry.before)
    no_contact(entry.after)


@pytest.mark.parametrize("role", [Role.LEADER])
def test_readers_cannot_moderate(client: TestClient, headers_for: HeadersFor, role: Role) -> None:
    report_id = submit(client, THU_DAU_MOT)
    headers = headers_for(role)
    assert client.get(f"/api/reports/{report_id}", headers=headers).status_code == 200
    assert client.post(f"/api/reports/{report_id}/approve", headers=headers).status_code == 403


def test_nobody_signed_in_sees_no_queue(client: TestClient) -> None:
    report_id = submit(client, THU_DAU_MOT)
    del client.headers["Authorization"]
    assert client.get("/api/reports/queue").status_code == 401
    assert client.get(f"/api/reports/{report_id}").status_code == 401
    assert client.post(f"/api/reports/{report_id}/approve").status_code == 401


def test_an_officer_sees_and_acts_only_on_its_own_reports(
    client: TestClient, headers_for: HeadersFor
) -> None:
    mine = submit(client, THU_DAU_MOT)  # waste in Thủ Dầu Một → so-tai-nguyen-moi-truong
    theirs = submit(client, DI_AN, code="other", text="Cây xanh ngã đổ chắn ngang đường trong khu dân cư")
    officer = headers_for(Role.AGENCY_OFFICER, agency_code="so-tai-nguyen-moi-truong")
    listed = client.get("/api/reports/queue", headers=officer).json()
    assert [r["service_request_id"] for r in listed["items"]] == [mine]
    assert client.get(f"/api/reports/{theirs}", headers=officer).status_code == 404
    assert client.get(f"/api/reports/{theirs}/files/1", headers=officer).status_code == 404
    assert (
        client.patch(
            f"/api/reports/{theirs}", headers=officer, json={"description": "Đã sửa nội dung này"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/reports/{theirs}/refuse", headers=officer, json={"reason": "Không thuộc thẩm quyền"}
        ).status_code
        == 404
    )
    assert client.post(f"/api/reports/{theirs}/approve", headers=officer).status_code == 404
    assert client.get(f"/api/reports/{theirs}").json()["status"] == "pending"
    by_area = headers_for(Role.AGENCY_OFFICER, agency_code="ubnd-khac", area_codes=("legacy:724",))
    assert client.get(f"/api/reports/{theirs}", headers=by_area).status_code == 200
    assert client.get(f"/api/reports/{mine}", headers=by_area).status_code == 404
    assert client.post(f"/api/reports/{mine}/approve", headers=officer).status_code == 200


def test_staff_download_the_file_as_an_attachment(client: TestClient) -> None:
    report_id = submit(client, THU_DAU_MOT)
    file_id = client.get(f"/api/reports/{report_id}").json()["files"][0]["id"]
    answer = client.get(f"/api/reports/{report_id}/files/{file_id}")
    assert answer.status_code == 200 and answer.content == PNG
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"].startswith("attachment")
    assert answer.headers["x-content-type-options"] == "nosniff"
