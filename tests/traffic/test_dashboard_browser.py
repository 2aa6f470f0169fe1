"""The traffic panel in a real Chromium (Debian's) against the real app: cameras on the map, the camera
wall with a posted snapshot and its overlay, the selected camera's charts, inert names, languages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    expect,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.domain import discover_domains
from cityops.core.kernel import Kernel

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
PANEL = 'section[data-domain="traffic"][data-panel="cameras"]'
READY = (
    "() => document.body.dataset.ready === 'true' && window.cityopsMap.loaded()"
    f" && document.querySelector('{PANEL}')?.dataset.ready === 'true'"
)
HOSTILE_NAME = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">Ngã tư <b>X</b>'


def traffic_texts(lang: str) -> dict[str, str]:
    traffic = next(d for d in discover_domains() if d.name == "traffic")
    return traffic.translations(lang)


@pytest.fixture
def app(kernel: Kernel, settings: Settings) -> FastAPI:
    kernel.simulated = True
    return create_app(kernel, settings)


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture
def page(
    browser: Browser,
    vendor_files: None,
    live_server: str,
    session_cookies: list[dict[str, str]],
    errors: list[str],
) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")
    context.add_cookies(session_cookies)  # type: ignore[arg-type]

    def refuse(route: Route) -> None:
        errors.append(f"request left the machine: {route.request.url}")
        route.abort()

    context.route(
        lambda url: not url.startswith(live_server) and not url.startswith(("data:", "blob:")), refuse
    )
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: console_error(message, errors))
    yield page
    context.close()


def console_error(message: ConsoleMessage, errors: list[str]) -> None:
    """Script errors and refused requests; a camera without a picture yet answers 404, which is no error."""
    if message.type != "error":
        return
    url = message.location.get("url", "")
    if "404" in message.text and url.startswith("http") and url.endswith("/overlay"):
        return
    errors.append(f"{message.text} ({url})")


def open_panel(page: Page, live_server: str) -> None:
    page.goto(live_server)
    try:
        page.wait_for_function(READY, timeout=20_000)
    except PlaywrightTimeoutError:
        state = page.evaluate(f"() => document.querySelector('{PANEL}')?.dataset.ready ?? null")
        raise AssertionError(f"the traffic panel did not get ready (panel: {state})") from None
    page.locator("#panel-tab-traffic-cameras").click()
    expect(page.locator(PANEL)).to_be_visible()


def rendered(page: Page, layer: str) -> dict[str, dict[str, Any]]:
    features: list[dict[str, Any]] = page.evaluate(
        "layer => window.cityopsMap.queryRenderedFeatures({layers: [layer]}).map(f => f.properties)", layer
    )
    return {f["urn"]: f for f in features}


def ingest(live_server: str, headers: dict[str, str], points: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{live_server}/api/ingest", json={"points": points}, headers=headers, timeout=10)
    assert response.status_code == 202, response.text


def jpeg(width: int, height: int) -> bytes:
    image = np.full((height, width, 3), (90, 90, 90), np.uint8)
    cv2.rectangle(image, (100, 80), (160, 110), (40, 40, 220), -1)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


def post_snapshot(live_server: str, headers: dict[str, str], camera_id: str, overlay: dict[str, Any]) -> None:
    files = {
        "image": ("frame.jpg", jpeg(overlay["width"], overlay["height"]), "image/jpeg"),
        "overlay": ("overlay.json", json.dumps(overlay).encode(), "application/json"),
    }
    response = httpx.post(
        f"{live_server}/api/traffic/cameras/{camera_id}/snapshot", files=files, headers=headers, timeout=10
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def cameras(live_server: str, auth_headers: dict[str, str]) -> list[dict[str, Any]]:
    response = httpx.get(f"{live_server}/api/traffic/cameras", headers=auth_headers, timeout=10)
    response.raise_for_status()
    listed: list[dict[str, Any]] = response.json()
    assert listed
    return listed


def test_camera_layer_has_a_feature_per_camera_coloured_by_live_state(
    page: Page,
    live_server: str,
    auth_headers: dict[str, str],
    cameras: list[dict[str, Any]],
    errors: list[str],
) -> None:
    open_panel(page, live_server)
    located = {c["urn"] for c in cameras if c["location"]}
    drawn = rendered(page, "traffic-cameras-circle")
    assert drawn.keys() == located
    assert {f["state"] for f in drawn.values()} == {"unknown"}  # no worker has said anything yet

    up, down = cameras[0], cameras[1]
    now = int(page.evaluate("Date.now()"))
    ingest(
        live_server,
        auth_headers,
        [
            {"entity": up["urn"], "metric": "state", "time": now, "value": 1},
            {"entity": up["urn"], "metric": "intensity", "time": now, "value": 230},
            {"entity": down["urn"], "metric": "state", "time": now, "value": 0},
        ],
    )
    page.wait_for_function(
        """([up, down]) => {
            const f = Object.fromEntries(window.cityopsMap.queryRenderedFeatures({layers: ['traffic-cameras-circle']})
                .map(x => [x.properties.urn, x.properties]));
            return f[up]?.state === 'up' && f[up]?.flow === 230 && f[down]?.state === 'down';
        }""",
        arg=[up["urn"], down["urn"]],
        timeout=10_000,
    )
    summary = page.locator(f"{PANEL} .traffic-summary")
    expect(summary.locator('[data-state="up"] .state-count')).to_have_text("1")
    expect(summary.locator('[data-state="down"] .state-count')).to_have_text("1")
    expect(summary.locator('[data-state="unknown"] .state-count')).to_have_text(str(len(cameras) - 2))

    # Clicking a camera on the map (its own tab) selects it in the panel.
    page.locator("#workspace-tab-map").click()
    point = page.evaluate(
        "coordinates => window.cityopsMap.project(coordinates)", up["location"]["coordinates"]
    )
    box = page.locator("#map").bounding_box()
    assert box
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    expect(page.locator(PANEL)).to_have_attribute("data-selected", up["urn"])
    expect(page.locator(f"{PANEL} .camera-detail-title")).to_have_text(up["name"])
    page.screenshot(path=str(SCREENSHOTS / "traffic-map.png"))
    assert errors == []


def test_wall_shows_a_posted_snapshot_with_its_overlay_and_a_lost_signal(
    page: Page,
    live_server: str,
    auth_headers: dict[str, str],
    cameras: list[dict[str, Any]],
    errors: list[str],
) -> None:
    camera, lost = cameras[0], cameras[1]
    overlay = {
        "ts": int(time.time() * 1000),
        "width": 640,
        "height": 360,
        "lines": [{"id": "L1", "start": [400, 300], "end": [400, 60]}],
        "zones": [{"id": "Z1", "polygon": [[260, 60], [400, 60], [400, 180], [260, 180]]}],
        "boxes": [
            {"x1": 100, "y1": 80, "x2": 160, "y2": 110, "class": "car", "track": 7},
            {"x1": 300, "y1": 200, "x2": 326, "y2": 212, "class": "motorbike", "track": 8},
        ],
        "counts": {"L1": {"car": {"in": 12, "out": 3}, "motorbike": {"in": 40, "out": 0}}},
    }
    post_snapshot(live_server, auth_headers, camera["id"], overlay)
    post_snapshot(live_server, auth_headers, lost["id"], {**overlay, "boxes": []})
    open_panel(page, live_server)
    now = int(page.evaluate("Date.now()"))
    ingest(live_server, auth_headers, [{"entity": lost["urn"], "metric": "state", "time": now, "value": 0}])

    card = page.locator(f'{PANEL} .camera-card[data-urn="{camera["urn"]}"]')
    frame = card.locator(".camera-frame")
    expect(frame).to_have_attribute("data-view", "image", timeout=10_000)
    image = card.locator("img.camera-image")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 640
    assert f"/api/traffic/cameras/{camera['id']}/snapshot.jpg?" in (image.get_attribute("src") or "")
    svg = card.locator("svg.overlay")
    assert svg.get_attribute("viewBox") == "0 0 640 360"
    boxes = svg.locator(".overlay-box")
    expect(boxes).to_have_count(2)
    vi = traffic_texts("vi")
    expect(boxes.nth(0).locator("text")).to_have_text(vi["class.car"])  # the class, not the track number
    assert boxes.nth(0).locator("rect").first.get_attribute("x") == "100"
    line = svg.locator('.overlay-line[data-line="L1"]')
    expect(line).to_have_count(1)
    expect(line.locator("text")).to_have_text(f"L1: {vi['overlay.in']} 52 · {vi['overlay.out']} 3")
    # The "in" arrow points to the right of start -> end: start (400, 300) to end (400, 60) is upwards,
    # so traffic from the left (x < 400) comes in towards x > 400.
    arrow = line.locator(".overlay-arrow")
    assert float(arrow.get_attribute("x2") or 0) > float(arrow.get_attribute("x1") or 0)
    expect(svg.locator('.overlay-zone[data-zone="Z1"] polygon')).to_have_count(1)
    expect(card.locator('.camera-counts li[data-class="car"] .count-value')).to_have_text(
        f"{vi['overlay.in']} 12 · {vi['overlay.out']} 3"
    )
    # Both pictures and their boxes are where the overlay says, on screen.
    shown = image.bounding_box()
    drawn = boxes.nth(0).locator("rect").first.bounding_box()
    assert shown and drawn
    assert drawn["x"] - shown["x"] == pytest.approx(100 * shown["width"] / 640, abs=2)
    assert drawn["width"] == pytest.approx(60 * shown["width"] / 640, abs=2)
    expect(card.locator(".badge-simulated")).to_be_visible()  # the sample cameras are simulated
    expect(card.locator(".badge-simulated")).to_have_text(vi["wall.simulated"])

    lost_card = page.locator(f'{PANEL} .camera-card[data-urn="{lost["urn"]}"]')
    expect(lost_card).to_have_attribute("data-state", "down", timeout=10_000)
    expect(lost_card.locator(".camera-frame")).to_have_attribute("data-view", "lost")
    expect(lost_card.locator(".camera-message strong")).to_have_text(vi["wall.signal_lost"])
    expect(lost_card.locator(".camera-message span")).to_contain_text(vi["wall.last_frame"].split("{")[0])
    card.scroll_into_view_if_needed()
    page.locator(PANEL).screenshot(path=str(SCREENSHOTS / "traffic-wall.png"))
    assert errors == []


def test_charts_draw_the_selected_cameras_flow_by_class_after_ingestion(
    page: Page,
    live_server: str,
    auth_headers: dict[str, str],
    cameras: list[dict[str, Any]],
    errors: list[str],
) -> None:
    camera = cameras[2]
    open_panel(page, live_server)
    page.locator(f'{PANEL} .camera-card[data-urn="{camera["urn"]}"]').click()
    flow = page.locator(f'{PANEL} .camera-chart[data-chart="flow"]')
    expect(flow).to_have_attribute("data-points", "0", timeout=10_000)

    now = int(page.evaluate("Date.now()"))
    minute = now - now % 60_000
    points = []
    minutes = range(1, 6)
    for back in minutes:
        ts = minute - back * 60_000 + 5_000
        points += [
            {"entity": camera["urn"], "metric": "count.motorbike", "time": ts, "value": 40 + back},
            {"entity": camera["urn"], "metric": "count.car", "time": ts, "value": 10},
            {"entity": camera["urn"], "metric": "occupancy", "time": ts, "value": 30 + back},
            {"entity": camera["urn"], "metric": "averageVehicleSpeed", "time": ts, "value": 35},
        ]
    ingest(live_server, auth_headers, points)
    # Two classes over five minutes: ten bars, redrawn by the live feed without reloading the page.
    expect(flow).to_have_attribute("data-points", str(2 * len(minutes)), timeout=15_000)
    trend = page.locator(f'{PANEL} .camera-chart[data-chart="trend"]')
    expect(trend).to_have_attribute("data-points", str(2 * len(minutes)))
    vi = traffic_texts("vi")
    expect(flow.locator("svg text", has_text=vi["class.motorbike"])).not_to_have_count(0)
    assert flow.locator("svg path").count() >= 2 * len(minutes)
    page.locator(f"{PANEL} .camera-detail").screenshot(path=str(SCREENSHOTS / "traffic-charts.png"))
    assert errors == []


def test_hostile_camera_name_renders_as_text(
    page: Page, live_server: str, auth_headers: dict[str, str], errors: list[str]
) -> None:
    camera = {
        "name": HOSTILE_NAME,
        "location": {"type": "Point", "coordinates": [106.66, 10.99]},
        "cameraOrientation": "NE",
    }
    response = httpx.put(
        f"{live_server}/api/traffic/cameras/hostile-1", json=camera, headers=auth_headers, timeout=10
    )
    assert response.status_code == 200, response.text
    urn = response.json()["urn"]
    open_panel(page, live_server)
    card = page.locator(f'{PANEL} .camera-card[data-urn="{urn}"]')
    expect(card.locator(".camera-name")).to_have_text(HOSTILE_NAME)
    card.click()
    expect(page.locator(f"{PANEL} .camera-detail-title")).to_have_text(HOSTILE_NAME)
    assert page.locator(f"{PANEL} img:not(.camera-image), {PANEL} script, {PANEL} b").count() == 0
    assert page.evaluate("window.pwned") is None
    arrows = rendered(page, "traffic-cameras-arrow")
    assert arrows[urn]["bearing"] == 45
    expect(card.locator(".badge-simulated")).to_be_hidden()
    assert errors == []


def test_language_switch_translates_the_panel(
    page: Page,
    live_server: str,
    auth_headers: dict[str, str],
    cameras: list[dict[str, Any]],
    errors: list[str],
) -> None:
    open_panel(page, live_server)
    vi, ja, en = traffic_texts("vi"), traffic_texts("ja"), traffic_texts("en")
    tab = page.locator("#panel-tab-traffic-cameras")
    expect(tab).to_have_text(vi["panel.cameras"])
    expect(page.locator(f"{PANEL} .camera-wall-title")).to_have_text(vi["wall.title"])
    expect(page.locator(f'{PANEL} .traffic-summary [data-state="unknown"] span').last).to_have_text(
        vi["state.unknown"]
    )
    page.get_by_role("button", name="日本語").click()
    expect(tab).to_have_text(ja["panel.cameras"])
    expect(page.locator(f"{PANEL} .camera-wall-title")).to_have_text(ja["wall.title"])
    expect(page.locator(f"{PANEL} .camera-card .camera-state").first).to_have_text(ja["state.unknown"])
    expect(
        page.locator(f"{PANEL} .camera-chart[data-chart='flow'] svg text", has_text=ja["chart.flow_by_class"])
    ).to_have_count(1)
    page.get_by_role("button", name="English").click()
    expect(tab).to_have_text(en["panel.cameras"])
    expect(page.locator(f"{PANEL} .badge-simulated").first).to_have_text(en["wall.simulated"])
    assert errors == []


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
def test_the_wall_shows_every_camera_whole_names_and_labels_apart(
    width: int,
    height: int,
    page: Page,
    live_server: str,
    auth_headers: dict[str, str],
    cameras: list[dict[str, Any]],
    errors: list[str],
) -> None:
    # Dense traffic: many boxes side by side and on top of each other, and a line at the right edge.
    crowd = [
        {
            "x1": 40 + 22 * i,
            "y1": 150 + 6 * (i % 3),
            "x2": 90 + 22 * i,
            "y2": 190 + 6 * (i % 3),
            "class": "motorbike",
        }
        for i in range(20)
    ]
    overlay = {
        "ts": int(time.time() * 1000),
        "width": 640,
        "height": 360,
        "lines": [
            {"id": "L1", "start": [630, 20], "end": [630, 340]},
            {"id": "L2", "start": [5, 20], "end": [5, 340]},
        ],
        "boxes": [{"x1": 300, "y1": 100, "x2": 420, "y2": 200, "class": "bus"}, *crowd],
        "counts": {"L1": {"car": {"in": 1234, "out": 987}}, "L2": {"car": {"in": 5, "out": 6}}},
    }
    camera = cameras[0]
    post_snapshot(live_server, auth_headers, camera["id"], overlay)
    page.set_viewport_size({"width": width, "height": height})
    open_panel(page, live_server)

    # Every camera on the wall's one screen (the demo's 12), with its whole name, the page not scrolled.
    assert len(cameras) == 12
    wall = page.locator(f"{PANEL} .camera-wall")
    expect(wall.locator(".camera-card")).to_have_count(len(cameras))
    page.wait_for_timeout(300)
    box = wall.bounding_box()
    assert box
    assert wall.evaluate("w => w.scrollHeight <= w.clientHeight + 1")
    for index in range(len(cameras)):
        card = wall.locator(".camera-card").nth(index)
        shown = card.bounding_box()
        assert shown and shown["y"] + shown["height"] <= box["y"] + box["height"] + 1, (index, shown, box)
        assert shown["y"] + shown["height"] <= height + 1 and shown["x"] + shown["width"] <= width + 1
        name = card.locator(".camera-name")
        assert name.evaluate(
            "n => n.scrollHeight <= n.clientHeight + 1 && n.scrollWidth <= n.clientWidth + 1"
        )
    names = wall.locator(".camera-name").all_text_contents()
    assert sorted(names) == sorted(c["name"] for c in cameras)

    # No label drawn over another, the bus keeps its label, every label inside the picture.
    card = page.locator(f'{PANEL} .camera-card[data-urn="{camera["urn"]}"]')
    expect(card.locator(".camera-frame")).to_have_attribute("data-view", "image", timeout=10_000)
    picture = card.locator("img.camera-image").bounding_box()
    assert picture
    labels = [
        b
        for b in (
            label.bounding_box()
            for label in card.locator(".overlay-box .overlay-label-bg, .overlay-line text").all()
        )
        if b
    ]
    assert len(labels) >= 3
    badges = [b for b in (badge.bounding_box() for badge in card.locator(".camera-badges > *").all()) if b]
    labels += badges  # the card's own badges sit on the picture too: nothing is drawn under them
    for first in range(len(labels)):
        a = labels[first]
        assert a["x"] >= picture["x"] - 1 and a["x"] + a["width"] <= picture["x"] + picture["width"] + 1
        assert a["y"] >= picture["y"] - 1 and a["y"] + a["height"] <= picture["y"] + picture["height"] + 1
        for b in labels[first + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"] + 0.5
                or b["x"] + b["width"] <= a["x"] + 0.5
                or a["y"] + a["height"] <= b["y"] + 0.5
                or b["y"] + b["height"] <= a["y"] + 0.5
            )
            assert apart, (a, b)
    expect(card.locator('.overlay-box[data-class="bus"]')).to_have_attribute("data-labelled", "true")
    page.screenshot(path=str(SCREENSHOTS / f"traffic-wall-{width}.png"))
    assert errors == []
