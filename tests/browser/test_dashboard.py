"""The operations-room page in a real browser against the real app: map, indicators, live feed,
languages, and not one request leaving the machine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cityops.web import pages

pytestmark = pytest.mark.browser


class Credentials(Protocol):
    username: str
    password: str


class PageLog:
    """What the page did besides drawing: every URL it asked for, what was refused, script errors."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []

    @staticmethod
    def is_local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1"


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def context(
    browser: Browser, page_log: PageLog, vendor_files: None, live_server: str
) -> Iterator[BrowserContext]:
    # Depends on the server so that it closes first: an open live feed would hold the server's shutdown.
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="vi-VN")
    context.on("request", lambda request: page_log.urls.append(request.url))

    def refuse(route: Route) -> None:
        page_log.refused.append(route.request.url)
        route.abort()

    context.route(lambda url: not PageLog.is_local(url), refuse)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, page_log: PageLog) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda error: page_log.errors.append(str(error)))
    # Console errors include what the content security policy refused.
    page.on("console", lambda message: message.type == "error" and page_log.errors.append(message.text))
    return page


READY = "() => document.body.dataset.ready === 'true' && window.cityopsMap.loaded()"


STATE = """() => ({
    ready: document.body.dataset.ready ?? null,
    mapLoaded: window.cityopsMap ? window.cityopsMap.loaded() : null,
    errors: document.getElementById('errors').textContent,
})"""


def open_dashboard(page: Page, url: str) -> None:
    page.goto(url)
    try:
        page.wait_for_function(READY, timeout=20_000)
    except PlaywrightTimeoutError:
        raise AssertionError(f"the dashboard did not get ready: {page.evaluate(STATE)}") from None


def rendered(page: Page, layer: str, key: str) -> set[str]:
    """Distinct values of one property among the features MapLibre has drawn in a layer."""
    values: list[str] = page.evaluate(
        "([layer, key]) => window.cityopsMap.queryRenderedFeatures({layers: [layer]}).map(f => f.properties[key])",
        [layer, key],
    )
    return set(values)


@pytest.fixture
def api(live_server: str, auth_headers: dict[str, str]) -> Callable[..., Any]:
    """GET on the live server as `test-admin`: what the page should be showing."""

    def get(path: str, **params: str) -> Any:
        response = httpx.get(f"{live_server}{path}", params=params, headers=auth_headers, timeout=10)
        response.raise_for_status()
        return response.json()

    return get


@pytest.fixture
def signed_in(context: BrowserContext, session_cookies: list[dict[str, str]]) -> None:
    context.add_cookies(session_cookies)  # type: ignore[arg-type]


@pytest.mark.usefixtures("signed_in")
def test_map_draws_the_province_from_local_data_only(
    page: Page, live_server: str, page_log: PageLog, api: Callable[..., Any]
) -> None:
    open_dashboard(page, live_server)
    wards = {f["properties"]["code"] for f in api("/api/areas", scheme="2025", level="ward")["features"]}
    located = {f["properties"]["urn"] for f in api("/api/entities")["features"] if f["geometry"]}
    assert wards and located
    assert rendered(page, "areas-2025-fill", "code") == wards
    assert rendered(page, "entities-circle", "urn") == located
    assert rendered(page, "areas-legacy-fill", "code") == set()

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
    assert all(PageLog.is_local(url) for url in page_log.urls)
    assert any(
        url.endswith("maplibre-gl-worker.mjs?v=" + api("/static/vendor/versions.json")["maplibre-gl"])
        for url in page_log.urls
    )
    assert page_log.errors == []


@pytest.mark.usefixtures("signed_in")
def test_posted_point_reaches_the_feed_and_the_popup(
    page: Page, live_server: str, api: Callable[..., Any], auth_headers: dict[str, str]
) -> None:
    open_dashboard(page, live_server)
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
    page: Page, live_server: str, api: Callable[..., Any]
) -> None:
    open_dashboard(page, live_server)
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
    page.wait_for_function(READY, timeout=20_000)
    expect(page.locator("h1")).to_have_text(japanese["app.title"])
    expect(page.get_by_role("button", name="日本語")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("localStorage.getItem('cityops.language')") == "ja"


@pytest.mark.usefixtures("signed_in")
def test_boundary_toggle_shows_the_legacy_districts(
    page: Page, live_server: str, api: Callable[..., Any]
) -> None:
    open_dashboard(page, live_server)
    districts = api("/api/areas", scheme="legacy", level="district")["features"]
    page.locator('[data-scheme="legacy"]').click()
    page.wait_for_function(READY)
    assert rendered(page, "areas-legacy-fill", "code") == {f["properties"]["code"] for f in districts}
    assert rendered(page, "areas-2025-fill", "code") == set()
    expect(page.locator(".area-label")).to_have_count(len(districts))
    expect(page.locator("#legend-areas")).to_have_text(pages.kernel_texts("vi")["legend.areas_legacy"])


@pytest.mark.usefixtures("signed_in")
def test_phone_layout_stacks_without_sideways_scrolling(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_dashboard(page, live_server)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    map_box = page.locator("#map").bounding_box()
    feed_box = page.locator(".feed-panel").bounding_box()
    assert map_box and feed_box
    assert map_box["height"] > 300 and map_box["width"] > 350
    assert feed_box["y"] >= map_box["y"] + map_box["height"]  # the feed comes after the map
    expect(page.locator(".legend .approximate")).to_be_visible()


def test_sign_in_through_the_page(page: Page, live_server: str, browser_account: Credentials) -> None:
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
    page.wait_for_function(READY, timeout=20_000)
    expect(form).to_be_hidden()
    expect(page.locator("#user-name")).to_have_text(
        f"{browser_account.username} · {vietnamese['role.operator']}"
    )

    page.get_by_role("button", name=vietnamese["user.sign_out"]).click()
    expect(form).to_be_visible()
