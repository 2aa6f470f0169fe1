"""The wifi panel in Debian's Chromium against the real app: hotspots on the map by state, today's
figures per tenant, sites up or degraded, in Vietnamese first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update
from tests.wifi.conftest import World, build_world

from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.wifi.schema import access_points

pytestmark = pytest.mark.browser
PANEL = 'section[data-domain="wifi"][data-panel="hotspots"]'
READY = (
    "() => document.body.dataset.ready === 'true' && window.cityopsMap.loaded()"
    f" && document.querySelector('{PANEL}')?.dataset.ready === 'true'"
)


@pytest.fixture
def world(client: TestClient, kernel: Kernel) -> World:
    world = build_world(client, kernel)
    for ap_id in ("park-1", "park-2", "cafe-1"):
        response = client.post(
            f"/api/wifi/devices/{ap_id}/heartbeat",
            json={},
            headers={"Authorization": f"Bearer {world.keys[ap_id]}"},
        )
        assert response.status_code == 204
    with write_transaction(kernel.engine) as conn:  # park-2 fell silent long ago
        conn.execute(
            update(access_points)
            .where(access_points.c.id == "park-2")
            .values(last_heartbeat_ms=int(time.time() * 1000) - 600_000)
        )
    for n in range(3):
        world.account(
            Acct_Status_Type="Start", Acct_Session_Id=f"p{n}", Called_Station_Id="AA-BB-CC-00-00-01:Free"
        )
    assert client.post("/api/wifi/sweep").json()["down"] == 1
    return world


@pytest.fixture
def page(
    browser: Browser, vendor_files: None, live_server: str, session_cookies: list[dict[str, str]]
) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="vi-VN")
    context.add_cookies(session_cookies)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_panel_shows_hotspots_figures_and_sites(world: World, page: Page, live_server: str) -> None:
    page.goto(live_server)
    page.wait_for_function(READY, timeout=30_000)
    page.locator("#panel-tab-wifi-hotspots").click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    expect(panel.get_by_text("Địa điểm")).to_be_visible()
    expect(panel.locator('li[data-state="degraded"]')).to_contain_text("Công viên Thủ Dầu Một")
    expect(panel.locator('li[data-state="up"]')).to_contain_text("Cà phê Sao")
    rows = panel.locator("table.wifi-tenants tr")
    expect(rows).to_have_count(2)  # a header, and the one tenant with sessions today
    expect(rows.filter(has_text="Wifi công cộng")).to_contain_text("3")
    page.locator("#panel-tab-map, [role=tab]").first.click()
    features: list[dict[str, Any]] = page.evaluate(
        "() => window.cityopsMap.querySourceFeatures('wifi-hotspots').map(f => f.properties)"
    )
    states = {f["id"]: (f["state"], f["users"]) for f in features}
    assert states["park-1"] == ("up", 3)
    assert states["park-2"][0] == "down"
