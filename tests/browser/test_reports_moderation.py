"""The moderation panel of citizens' reports on the dashboard, in a real Chromium against the real app:
submitted reports appear newest first with their photo (through the signed-in file route) and place; approve
opens an incident, refusing needs a reason, an edit is approved with its changes; a citizen's markup stays
text; a leader sees the queue but no action."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.kernel import Kernel

pytestmark = pytest.mark.browser
PAYLOAD = (
    "Cống thoát nước bị tắc <script>window.pwned = 1; document.title = 'pwned'</script>"
    '<img src=x onerror="window.pwned = 2"><b>đậm</b>'
)
PHU_CUONG = (10.9804, 106.6517)
TAB = "#panel-tab-reports-moderation"
PANEL = "#panel-reports-moderation"


class Dashboard(Protocol):  # tests/browser/conftest.py
    def open(self) -> None: ...


class PageLog(Protocol):  # tests/browser/conftest.py
    errors: list[str]


def photo() -> bytes:
    ok, encoded = cv2.imencode(".png", np.full((60, 80, 3), (40, 120, 200), np.uint8))
    assert ok
    return bytes(encoded)


def submit(
    base: str, description: str, code: str = "flooding", where: tuple[float, float] = PHU_CUONG
) -> str:
    answer = httpx.post(
        f"{base}/api/reports/public/requests",
        data={"service_code": code, "description": description, "lat": str(where[0]), "long": str(where[1])},
        files=[("media", ("cống.png", photo(), "image/png"))],
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["service_request_id"])


def open_panel(dashboard: Dashboard, page: Page) -> Locator:
    dashboard.open()
    page.click(TAB)
    panel = page.locator(PANEL)
    expect(panel).to_have_attribute("data-ready", "true")
    return panel


def row(panel: Locator, report_id: str) -> Locator:
    return panel.locator(f'.moderation-list li[data-report="{report_id}"]')


@pytest.mark.usefixtures("signed_in")
def test_an_operator_moderates_the_queue(
    dashboard: Dashboard, page: Page, live_server: str, api: Callable[..., Any], page_log: PageLog
) -> None:
    inert = submit(live_server, PAYLOAD)
    refused = submit(live_server, "Rác thải đổ trộm bên lề đường gần chợ", code="waste")
    edited = submit(live_server, "Đèn đường hư hỏng cả đoạn đường", code="lighting")
    panel = open_panel(dashboard, page)

    # Newest first, with the count.
    expect(panel.locator(".moderation-list li")).to_have_count(3)
    assert panel.locator(".moderation-list li").evaluate_all("rows => rows.map(r => r.dataset.report)") == [
        edited,
        refused,
        inert,
    ]
    expect(panel.locator(".moderation-count")).to_have_text("3 phản ánh chờ duyệt")
    late = submit(live_server, "Cây xanh ngã đè lên vỉa hè đường Yersin", code="other")
    page.click(TAB)  # showing the tab again refreshes it (a timer does too)
    expect(row(panel, late)).to_be_visible()
    expect(panel.locator(".moderation-count")).to_have_text("4 phản ánh chờ duyệt")

    # The citizen's markup is text; the photo comes through the staff route with the session.
    row(panel, inert).locator(".row-title").click()
    detail = panel.locator(f'.moderation-detail article[data-report="{inert}"]')
    expect(detail.locator(".description")).to_have_text(PAYLOAD)
    expect(row(panel, inert).locator(".row-title")).to_contain_text("<script>")
    assert panel.locator(".description script, .description img, .description b, .row-title img").count() == 0
    assert page.evaluate("window.pwned") is None and page.title() != "pwned"
    thumbnail = detail.locator("img.thumbnail")
    expect(thumbnail).to_have_count(1)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 80", arg=thumbnail.element_handle(), timeout=5_000
    )
    panel.screenshot(path="/tmp/reports-moderation-panel.png")

    # The main map flies to the report and marks it.
    detail.locator("button.fly").click()
    page.wait_for_function(
        """([lat, lon]) => {
            const map = window.cityopsMap, c = map.getCenter();
            return !map.isMoving() && Math.abs(c.lat - lat) < 1e-4 && Math.abs(c.lng - lon) < 1e-4;
        }""",
        arg=list(PHU_CUONG),
        timeout=10_000,
    )
    assert page.evaluate("window.cityopsMap.getSource('reports-moderation-selected') !== undefined")
    # The map's tab comes to the front, with a button on the map back to the report (no tab to find).
    expect(page.locator("#workspace-tab-map")).to_have_attribute("aria-selected", "true")
    expect(panel).to_be_hidden()
    back = page.locator("#map-panel .map-back")
    expect(back).to_have_text("← Quay lại: Kiểm duyệt phản ánh")
    back.click()
    expect(panel).to_be_visible()
    expect(back).to_be_hidden()
    expect(page.locator(TAB)).to_have_attribute("aria-selected", "true")
    expect(detail.locator("button.fly")).to_be_visible()

    # Approve: an incident of the agency in charge.
    detail.locator('button[data-action="approve"]').click()
    expect(detail.locator(".moderation-done")).to_contain_text(f"Đã duyệt phản ánh #{inert}")
    expect(row(panel, inert)).to_have_count(0)
    approved = api(f"/api/reports/{inert}")
    assert approved["status"] == "approved" and approved["moderated_by"] == "browser-operator"
    assert api(f"/api/incidents/{approved['incident_id']}")["state"] == "assigned"
    expect(detail.locator(".moderation-done")).to_contain_text(f"sự cố #{approved['incident_id']}")

    # Refuse: not without a reason.
    row(panel, refused).locator(".row-title").click()
    detail = panel.locator(f'.moderation-detail article[data-report="{refused}"]')
    detail.locator('button[data-action="refuse"]').click()
    detail.locator('button[data-action="confirm-refuse"]').click()
    expect(detail.locator(".detail-error")).to_contain_text("Cần nêu lý do từ chối")
    assert api(f"/api/reports/{refused}")["status"] == "pending"
    detail.locator('textarea[name="reason"]').fill("Trùng với phản ánh đã xử lý hôm qua")
    detail.locator('button[data-action="confirm-refuse"]').click()
    expect(detail.locator(".moderation-done")).to_contain_text(f"Đã từ chối phản ánh #{refused}")
    answer = api(f"/api/reports/{refused}")
    assert (answer["status"], answer["refusal_reason"]) == ("refused", "Trùng với phản ánh đã xử lý hôm qua")

    # Edit, then approve: the changes are what is published.
    row(panel, edited).locator(".row-title").click()
    detail = panel.locator(f'.moderation-detail article[data-report="{edited}"]')
    detail.locator('button[data-action="edit"]').click()
    detail.locator('textarea[name="description"]').fill(
        "Đèn đường hư hỏng cả đoạn đường Yersin, trời tối rất nguy hiểm"
    )
    detail.locator('input[name="address_string"]').fill("Đường Yersin, phường Phú Cường")
    detail.locator('button[data-action="save-approve"]').click()
    expect(detail.locator(".moderation-done")).to_contain_text(f"Đã duyệt phản ánh #{edited}")
    answer = api(f"/api/reports/{edited}")
    assert answer["status"] == "approved"
    assert answer["description"] == "Đèn đường hư hỏng cả đoạn đường Yersin, trời tối rất nguy hiểm"
    assert answer["address"] == "Đường Yersin, phường Phú Cường"
    expect(panel.locator(".moderation-count")).to_have_text("1 phản ánh chờ duyệt")
    assert page_log.errors == []


def test_an_edit_that_the_api_refuses_keeps_the_text_and_says_why(
    dashboard: Dashboard, page: Page, live_server: str, api: Callable[..., Any], signed_in: None
) -> None:
    report_id = submit(live_server, "Nắp cống bị vỡ giữa đường")
    panel = open_panel(dashboard, page)
    row(panel, report_id).locator(".row-title").click()
    detail = panel.locator(f'.moderation-detail article[data-report="{report_id}"]')
    detail.locator('button[data-action="edit"]').click()
    typed = "Nap cong bi vo giua duong rat nguy hiem cho xe may"
    detail.locator('textarea[name="description"]').fill(typed)
    detail.locator('button[data-action="save-approve"]').click()
    expect(detail.locator(".detail-error")).to_contain_text("có dấu")
    expect(detail.locator('textarea[name="description"]')).to_have_value(typed)
    assert api(f"/api/reports/{report_id}")["status"] == "pending"


@pytest.fixture
def leader_session(context: BrowserContext, kernel: Kernel, live_server: str) -> None:
    password = secrets.token_urlsafe(16)
    with kernel.engine.begin() as conn:
        create_user(conn, NewUser("lanh-dao", Role.LEADER, password=password), actor="tests")
    login = httpx.post(f"{live_server}/api/auth/login", json={"username": "lanh-dao", "password": password})
    login.raise_for_status()
    context.add_cookies([{"name": n, "value": v, "url": live_server} for n, v in login.cookies.items()])  # type: ignore[misc]


@pytest.mark.usefixtures("leader_session")
def test_a_leader_sees_the_queue_without_actions(
    dashboard: Dashboard, page: Page, live_server: str, page_log: PageLog
) -> None:
    report_id = submit(live_server, "Ngập nước sâu trước cổng trường học")
    panel = open_panel(dashboard, page)
    row(panel, report_id).locator(".row-title").click()
    detail = panel.locator(f'.moderation-detail article[data-report="{report_id}"]')
    expect(detail.locator(".moderation-notice")).to_contain_text("chỉ được xem")
    expect(detail.locator(".description")).to_have_text("Ngập nước sâu trước cổng trường học")
    assert panel.locator("button[data-action]").count() == 0
    assert page_log.errors == []
