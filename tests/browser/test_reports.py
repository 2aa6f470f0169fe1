"""The citizens' pages in a real browser: a `<script>` in a report is shown as text and never runs."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
PAYLOAD = "Cống thoát nước bị tắc <script>window.pwned = 1; document.title = 'pwned'</script><img src=x onerror=\"window.pwned = 2\">"


def test_report_text_is_inert_on_the_public_pages(
    browser: Browser, live_server: str, auth_headers: dict[str, str]
) -> None:
    created = httpx.post(
        f"{live_server}/api/reports/public/requests",
        data={
            "service_code": "flooding",
            "description": PAYLOAD,
            "address_string": "Đường Yersin, Phú Cường",
        },
    )
    assert created.status_code == 201, created.text
    report_id = created.json()["service_request_id"]
    approved = httpx.post(f"{live_server}/api/reports/{report_id}/approve", headers=auth_headers)
    assert approved.status_code == 200, approved.text

    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in (f"/api/reports/public/board/{report_id}", "/api/reports/public/board"):
        page.goto(f"{live_server}{path}")
        expect(page.locator(".description").first).to_contain_text("<script>window.pwned = 1;")
        assert page.evaluate("window.pwned") is None
        assert page.title() != "pwned"
        assert page.locator(".description script, .description img").count() == 0
    context.close()
    assert errors == []


def test_the_form_is_sent_from_the_browser(browser: Browser, live_server: str) -> None:
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server}/api/reports/public/form")
    page.check("input[name=service_code][value=road]")
    page.fill("#description", "Mat duong bi lun sut tao thanh ho lon rat nguy hiem")
    page.fill("#address_string", "Đường Yersin, phường Phú Cường")
    page.click("button[type=submit]")
    expect(page.locator("#error")).to_contain_text("có dấu")
    page.fill("#description", "Mặt đường bị lún sụt tạo thành hố lớn rất nguy hiểm")
    page.set_input_files("#media", files=[{"name": "ổ gà.png", "mimeType": "image/png", "buffer": PNG}])
    page.click("button[type=submit]")
    expect(page.locator("#thanks")).to_contain_text("Cảm ơn")
    context.close()
