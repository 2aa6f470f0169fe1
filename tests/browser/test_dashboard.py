"""The operations-room page in a real browser against the real app: map, indicators, live feed,
languages, and not one request leaving the machine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import pytest
from playwright.sync_api import Page, expect

from cityops.web import pages

pytestmark = pytest.mark.browser


class Credentials(Protocol):
    username: str
    password: str


class Dashboard(Protocol):  # tests/browser/conftest.py
    def open(self) -> None: ...
    def wait_ready(self) -> None: ...
    def rendered(self, layer: str, key: str) -> set[Any]: ...


class PageLog(Protocol):  # tests/browser/conftest.py
    urls: list[str]
    refused: list[str]
    errors: list[str]

    def is_local(self, url: str) -> bool: ...


@pytest.mark.usefixtures("signed_in")
def test_map_draws_the_province_from_local_data_only(
    dashboard: Dashboard, page: Page, live_server: str, page_log: PageLog, api: Callable[..., Any]
) -> None:
    dashboard.open()
    wards = {f["properties"]["code"] for f in api("/api/areas", scheme="2025", level="ward")["features"]}
    located = {f["properties"]["urn"] for f in api("/api/entities")["features"] if f["geometry"]}
    assert wards and located
    assert dashboard.rendered("areas-2025-fill", "code") == wards
    assert dashboard.rendered("entities-circle", "urn") == located
    assert dashboard.rendered("areas-legacy-fill", "code") == set()

    vietnamese = pages.kernel_texts("vi")
    expect(page.locator("h1")).to_have_text(vietnamese["app.title"])
    expect(page.locator("#simulated-banner")).to_be_visible()
    expect(page.locator("#simulated-banner")).to_have_text(
        "DỮ LIỆU MÔ PHỎNG — Simulated data — シミュレーションデータ"
    )
    expect(page.locator(".legend .approximate")).to_have_text("Ranh giới phường/xã là gần đúng")
    indicators = api("/api/indicators")
    expect(page.locator(".tile")).to_have_count(len(indicators))
    for indicator in indicators:
        tile = page.locator(f'.tile[data-indicator="{indicator["id"]}"]')
        expect(tile).to_have_attribute("data-status", indicator["status"])
        expect(tile.locator(".tile-title")).to_have_text(indicator["title"]["vi"])
    page.screenshot(path="/tmp/dashboard.png")

    assert page_log.refused == []
    assert all(page_log.is_local(url) for url in page_log.urls)
    assert any(
        url.endswith("maplibre-gl-worker.mjs?v=" + api("/static/vendor/versions.json")["maplibre-gl"])
        for url in page_log.urls
    )
    assert page_log.errors == []


@pytest.mark.usefixtures("signed_in")
def test_posted_point_reaches_the_feed_and_the_popup(
    dashboard: Dashboard, page: Page, live_server: str, api: Callable[..., Any], auth_headers: dict[str, str]
) -> None:
    dashboard.open()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    camera = api("/api/entities", type="Camera")["features"][0]["properties"]
    point = {
        "entity": camera["urn"],
        "metric": "intensity",
        "time": datetime.now(UTC).isoformat(),
        "value": 4321.5,
    }
    response = httpx.post(
        f"{live_server}/api/ingest", json={"points": [point]}, headers=auth_headers, timeout=10
    )
    assert response.status_code == 202, response.text

    row = page.locator(f'#feed li[data-entity="{camera["urn"]}"][data-metric="intensity"]')
    expect(row).to_have_count(1, timeout=5_000)
    expect(row).to_have_attribute("data-value", "4321.5")
    expect(row.locator(".who")).to_have_text(camera["name"])
    expect(row.locator(".value")).to_have_text("4.321,5 xe/phút")  # Vietnamese digit grouping

    page.evaluate("urn => window.cityopsDashboard.mapView.openPopup(urn)", camera["urn"])
    popup = page.locator(f'.popup[data-urn="{camera["urn"]}"]')
    expect(popup.locator("h4")).to_have_text(camera["name"])
    expect(popup.locator("dd")).to_have_text(["4.321,5 xe/phút"])


@pytest.mark.usefixtures("signed_in")
def test_language_switch_is_applied_and_remembered(
    dashboard: Dashboard, page: Page, live_server: str, api: Callable[..., Any]
) -> None:
    dashboard.open()
    japanese = pages.kernel_texts("ja")
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text(japanese["app.title"])
    expect(page.locator(".legend .approximate")).to_have_text(japanese["legend.approximate"])
    camera_type = next(
        t for d in api("/api/meta")["domains"] for t in d["entity_types"] if t["type"] == "Camera"
    )
    expect(page.locator('#legend-types li[data-type="Camera"]')).to_have_text(camera_type["title"]["ja"])
    # The banner stays trilingual whatever the language.
    expect(page.locator("#simulated-banner")).to_have_text(pages.simulated_banner())

    page.reload()
    dashboard.wait_ready()
    expect(page.locator("h1")).to_have_text(japanese["app.title"])
    expect(page.get_by_role("button", name="日本語")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("localStorage.getItem('cityops.language')") == "ja"


@pytest.mark.usefixtures("signed_in")
def test_boundary_toggle_shows_the_legacy_districts(
    dashboard: Dashboard, page: Page, live_server: str, api: Callable[..., Any]
) -> None:
    dashboard.open()
    districts = api("/api/areas", scheme="legacy", level="district")["features"]
    page.locator('[data-scheme="legacy"]').click()
    dashboard.wait_ready()
    assert dashboard.rendered("areas-legacy-fill", "code") == {f["properties"]["code"] for f in districts}
    assert dashboard.rendered("areas-2025-fill", "code") == set()
    expect(page.locator(".area-label")).to_have_count(len(districts))
    expect(page.locator("#legend-areas")).to_have_text(pages.kernel_texts("vi")["legend.areas_legacy"])


@pytest.mark.usefixtures("signed_in")
def test_phone_layout_stacks_without_sideways_scrolling(
    dashboard: Dashboard, page: Page, live_server: str
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    dashboard.open()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    map_box = page.locator("#map").bounding_box()
    feed_box = page.locator(".feed-panel").bounding_box()
    assert map_box and feed_box
    assert map_box["height"] > 300 and map_box["width"] > 350
    assert feed_box["y"] >= map_box["y"] + map_box["height"]  # the feed comes after the map
    expect(page.locator(".legend .approximate")).to_be_visible()


def test_sign_in_through_the_page(
    dashboard: Dashboard, page: Page, live_server: str, browser_account: Credentials
) -> None:
    page.goto(live_server)
    form = page.locator("#sign-in")
    expect(form).to_be_visible()
    expect(page.locator("#map")).to_be_hidden()
    vietnamese = pages.kernel_texts("vi")
    form.get_by_label(vietnamese["sign_in.username"]).fill(browser_account.username)
    form.get_by_label(vietnamese["sign_in.password"]).fill(browser_account.password + "-wrong")
    form.get_by_role("button", name=vietnamese["sign_in.submit"]).click()
    expect(form.locator(".sign-in-error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu")

    form.get_by_label(vietnamese["sign_in.password"]).fill(browser_account.password)
    form.get_by_role("button", name=vietnamese["sign_in.submit"]).click()
    dashboard.wait_ready()
    expect(form).to_be_hidden()
    expect(page.locator("#user-name")).to_have_text(
        f"{browser_account.username} · {vietnamese['role.operator']}"
    )

    page.get_by_role("button", name=vietnamese["user.sign_out"]).click()
    expect(form).to_be_visible()
