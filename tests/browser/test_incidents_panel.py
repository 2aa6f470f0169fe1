"""The incidents panel of the operations-room page in a real browser against the real app: an alert raised
by a rule arrives live in the panel and its incident on the map; an incident moves through the buttons
(with the CSRF header, under the signed-in operator's name); text from the API never becomes markup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import pytest
from playwright.sync_api import Page, expect

from cityops.web import pages

pytestmark = pytest.mark.browser
VI = pages.kernel_texts("vi")
CAMERA = "urn:ngsi-ld:Camera:tdm-001"
PAYLOAD = 'Ngập sâu <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><b>đậm</b>'


class Dashboard(Protocol):  # tests/browser/conftest.py
    def open(self) -> None: ...
    def wait_ready(self) -> None: ...
    def rendered(self, layer: str, key: str) -> set[Any]: ...


class PageLog(Protocol):  # tests/browser/conftest.py
    errors: list[str]


class Credentials(Protocol):
    username: str


def post(url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(url, json=body, headers=headers, timeout=10)
    assert response.status_code in (201, 202), response.text
    answer: dict[str, Any] = response.json()
    return answer


def assert_inert(page: Page, where: str) -> None:
    assert page.locator(f"{where} script, {where} img, {where} b").count() == 0
    assert page.evaluate("window.pwned") is None


@pytest.mark.usefixtures("signed_in")
def test_an_alert_raised_by_a_rule_arrives_in_the_panel_and_on_the_map(
    dashboard: Dashboard, page: Page, live_server: str, auth_headers: dict[str, str], page_log: PageLog
) -> None:
    dashboard.open()
    expect(page.locator("#incidents-title")).to_have_text("Sự cố")
    expect(page.locator("#alerts-empty")).to_be_visible()
    rule = {
        "id": "dong-xe-cho-dinh",
        "kind": "threshold",
        "title": {"vi": "Đông xe ngã tư Chợ Đình", "en": "Busy crossroads", "ja": "交差点の混雑"},
        "severity": "high",
        "category": "traffic",
        "entity_type": "Camera",
        "entity": CAMERA,
        "metric": "intensity",
        "op": ">",
        "value": 50,
        "opens_incident": True,
    }
    post(f"{live_server}/api/rules", auth_headers, rule)
    point = {"entity": CAMERA, "metric": "intensity", "time": datetime.now(UTC).isoformat(), "value": 80}
    post(f"{live_server}/api/ingest", auth_headers, {"points": [point]})

    alert = page.locator("#alert-list li[data-alert]")
    expect(alert).to_have_count(1, timeout=5_000)
    expect(alert).to_have_attribute("data-severity", "high")
    expect(alert.locator(".row-title")).to_have_text("Đông xe ngã tư Chợ Đình")
    incident = page.locator("#incident-list li[data-incident]")
    expect(incident).to_have_count(1)
    expect(incident.locator(".badge.state")).to_have_text(VI["incident.state.new"])
    expect(incident.locator(".agency")).to_have_text(VI["incidents.unassigned"])
    expect(incident.locator(".sla")).to_contain_text("Tiếp nhận trong 14:")  # high: 15 minutes
    incident_id = int(incident.get_attribute("data-incident") or 0)
    expect(alert.locator("button")).to_have_text(f"Xem sự cố #{incident_id}")
    page.wait_for_function(
        "id => window.cityopsMap.queryRenderedFeatures({layers: ['incidents-circle']})"
        ".some(f => f.properties.id === id)",
        arg=incident_id,
        timeout=5_000,
    )
    page.screenshot(path="/tmp/incidents-panel.png")
    assert page_log.errors == []


@pytest.mark.usefixtures("signed_in")
def test_an_incident_moves_through_the_buttons_and_its_text_stays_text(
    dashboard: Dashboard,
    page: Page,
    live_server: str,
    auth_headers: dict[str, str],
    api: Callable[..., Any],
    browser_account: Credentials,
    page_log: PageLog,
) -> None:
    camera = api("/api/entities", type="Camera")["features"][0]
    body = {
        "title": "Ngập <b>nặng</b> đường Yersin",
        "description": PAYLOAD,
        "severity": "critical",
        "category": "naturalDisaster",
        "sub_category": "flood",
        "location": camera["geometry"],
    }
    number = post(f"{live_server}/api/incidents", auth_headers, body)["id"]
    dashboard.open()

    row = page.locator(f'#incident-list li[data-incident="{number}"]')
    expect(row.locator(".row-title")).to_have_text(f"#{number} Ngập <b>nặng</b> đường Yersin")
    row.locator(".row-title").click()
    detail = page.locator("#incident-detail")
    expect(detail).to_be_visible()
    expect(detail.locator(".description")).to_have_text(PAYLOAD)
    assert_inert(page, "#incident-detail")
    assert "null" not in detail.inner_text()  # nothing missing was written out
    page.screenshot(path="/tmp/incident-detail-open.png")
    expect(detail.locator(".actions button")).to_have_text([VI["incidents.action.acknowledged"]])

    detail.get_by_role("button", name=VI["incidents.action.acknowledged"]).click()
    expect(detail.locator(".badge.state")).to_have_text(VI["incident.state.acknowledged"])
    assert api(f"/api/incidents/{number}")["state"] == "acknowledged"

    detail.get_by_role("textbox", name=VI["incidents.comment"]).fill(PAYLOAD)
    detail.get_by_role("button", name=VI["incidents.comment_send"]).click()
    comment = detail.locator('.history li[data-kind="comment"] .text')
    expect(comment).to_have_text(PAYLOAD)
    assert_inert(page, "#incident-detail")

    # An agency picked by name from the list, not typed: the incident carries its code.
    picker = detail.get_by_role("combobox", name=VI["incidents.agency"])
    expect(picker.locator("option", has_text="Công an thành phố Thủ Dầu Một")).to_have_count(1)
    picker.select_option(label="Công an thành phố Thủ Dầu Một")
    detail.get_by_role("button", name=VI["incidents.action.assigned"]).click()
    expect(detail.locator(".badge.state")).to_have_text(VI["incident.state.assigned"])
    assert api(f"/api/incidents/{number}")["agency"] == "cong-an-tdm"
    page.screenshot(path="/tmp/incident-detail.png")

    history = api(f"/api/incidents/{number}/history")
    assert [(h["kind"], h["actor"]) for h in history] == [
        ("created", "test-admin"),
        ("transition", browser_account.username),
        ("comment", browser_account.username),
        ("transition", browser_account.username),
    ]
    assert history[2]["text"] == PAYLOAD
    detail.get_by_role("button", name=VI["incidents.back"]).click()
    expect(row.locator(".badge.state")).to_have_text(VI["incident.state.assigned"])
    expect(row.locator(".agency")).to_have_text("Công an thành phố Thủ Dầu Một")
    assert page_log.errors == []
