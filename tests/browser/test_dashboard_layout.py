"""The operations room on one screen: a 1920x1080 wall and a 1366x768 laptop show every tile, the whole
province on a map that fills its box, the incidents and the feed, with no page scrolling; a domain
panel opens in the map's box and leaves the page unscrolled too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pytest
from playwright.sync_api import Page, expect
from shapely.geometry import shape

pytestmark = pytest.mark.browser

SCREENS = [(1920, 1080), (1366, 768)]


class Dashboard(Protocol):  # tests/browser/conftest.py
    def open(self) -> None: ...
    def wait_ready(self) -> None: ...


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not laid out"
    return found


def assert_on_screen(page: Page, selector: str, width: int, height: int) -> None:
    found = box(page, selector)
    assert found["x"] >= 0 and found["y"] >= 0, (selector, found)
    assert found["x"] + found["width"] <= width + 0.5, (selector, found)
    assert found["y"] + found["height"] <= height + 0.5, (selector, found)


def assert_no_page_scroll(page: Page, width: int, height: int) -> None:
    scroll = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert scroll == [width, height]


@pytest.mark.parametrize(("width", "height"), SCREENS, ids=["wall-1920x1080", "laptop-1366x768"])
@pytest.mark.usefixtures("signed_in")
def test_one_screen_holds_the_whole_province(
    dashboard: Dashboard, page: Page, api: Callable[..., Any], width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    dashboard.open()
    indicators = api("/api/indicators")
    expect(page.locator(".tile")).to_have_count(len(indicators))
    page.wait_for_timeout(300)  # the strip lays its tiles out in rows after they arrive
    assert_no_page_scroll(page, width, height)
    for selector in (".incidents-panel", ".feed-panel", "#map"):
        assert_on_screen(page, selector, width, height)
    for index in range(len(indicators)):
        assert_on_screen(page, f".tile >> nth={index}", width, height)

    # The map fills the box under its tabs, and a good part of the screen.
    map_box, body_box = box(page, "#map"), box(page, ".workspace-body")
    assert abs(map_box["width"] - body_box["width"]) <= 3 and abs(map_box["height"] - body_box["height"]) <= 3
    assert map_box["width"] * map_box["height"] >= 0.25 * width * height

    # The whole province is in view.
    province = api("/api/areas", scheme="legacy", level="province")["features"]
    west, south, east, north = shape(province[0]["geometry"]).bounds
    shown = page.evaluate("() => window.cityopsMap.getBounds().toArray().flat()")
    assert shown[0] <= west and shown[1] <= south and shown[2] >= east and shown[3] >= north, shown
    # ...and not as a speck: it spans most of the box one way or the other.
    span = max((east - west) / (shown[2] - shown[0]), (north - south) / (shown[3] - shown[1]))
    assert span >= 0.8
    page.screenshot(path=f"/tmp/dashboard-{width}x{height}.png")

    # A domain panel opens in the map's box; the map's tab brings the map back.
    tabs = page.locator("#workspace-tabs [role=tab]")
    assert tabs.count() >= 2
    tabs.nth(1).click()
    expect(page.locator("#domain-panels")).to_be_visible()
    panel_box = box(page, "#domain-panels")
    assert abs(panel_box["y"] - body_box["y"]) <= 3 and abs(panel_box["height"] - body_box["height"]) <= 3
    assert_no_page_scroll(page, width, height)
    page.locator("#workspace-tab-map").click()
    expect(page.locator("#domain-panels")).to_be_hidden()
    expect(page.locator("#workspace-tab-map")).to_have_attribute("aria-selected", "true")
