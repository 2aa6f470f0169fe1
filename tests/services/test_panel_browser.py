"""The public-services panel in a real Chromium against the real app on a simulated 2025 (to 15 September):
it mounts in its tab below the map, draws the index, groups, channels, trends and agencies, colours one
region per locality, lists the late dossiers with their apology letters, re-labels on a language switch,
and shows names from imported files as text, never as markup."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.kernel import Kernel
from cityops.services.catalogue import Agency
from cityops.services.demo.generator import DemoProvince
from cityops.services.importing.readers import Chunk
from cityops.services.index.scoring import Reader
from cityops.services.runtime import ServicesRuntime
from cityops.services.timing.periods import Period, from_timestamp

from .conftest import PROCEDURES, chunk_of, dossier_row

pytestmark = pytest.mark.browser

AGENCY_NAME = '<img src=x onerror="window.__xss = 1">Sở <b>Thử</b>'
PROCEDURE_NAME = "<script>window.__xss = 2</script>Thủ tục thử"
LATE_CODE = "H57.X99-250102-0001"
PANEL = "#panel-services-index"
ECHARTS = "/static/vendor/echarts/echarts.esm.min.mjs"


@pytest.fixture
def province(
    runtime: ServicesRuntime, demo_province: DemoProvince, demo_2025: list[Chunk]
) -> ServicesRuntime:
    """The simulated 2025, a late dossier of an agency and procedure named with markup, and the agency
    ranked first renamed with markup too (so its name reaches a chart's axis and tooltip)."""
    runtime.save_catalogue(demo_province.procedures, demo_province.agencies)
    runtime.import_chunks(demo_2025, "simulated", "csv")
    with runtime.reading() as accumulator:
        reader = Reader(accumulator, runtime.catalogue, runtime.area_book, from_timestamp(runtime.now_s()))
        top = reader.ranking("agency", Period("year", 2025))[0]["code"]
    renamed = [a.model_copy(update={"name": AGENCY_NAME}) for a in demo_province.agencies if a.code == top]
    procedure = PROCEDURES[0].model_copy(update={"code": "X.000001", "name": PROCEDURE_NAME})
    agency = Agency(code="H57.X99", name=AGENCY_NAME, area_code="legacy:74", level="province")
    runtime.save_catalogue([procedure], [agency, *renamed])
    runtime.import_chunks([chunk_of([late_row(LATE_CODE, "08:00")])], "test", "csv")
    return runtime


def late_row(code: str, hour: str) -> dict[str, Any]:
    """An open dossier of the markup-named agency received on 2 January 2025, due five working days later."""
    row = dossier_row(
        code=code,
        procedure_code="X.000001",
        agency_code="H57.X99",
        status="processing",
        status_at=f"2025-01-02T{hour}:30+07:00",
        submitted_at="2025-01-02T07:30:00+07:00",
        received_at=f"2025-01-02T{hour}:00+07:00",
        due_at=f"2025-01-09T{hour}:00+07:00",
    )
    del row["finished_at"], row["returned_at"]
    return row


@pytest.fixture
def app(province: ServicesRuntime, services_kernel: Kernel, settings: Settings) -> FastAPI:
    services_kernel.simulated = province.simulated = True
    return create_app(services_kernel, settings)


@pytest.fixture
def page(
    browser: Browser, vendor_files: None, live_server: str, session_cookies: list[dict[str, str]]
) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")
    context.add_cookies(session_cookies)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.clock.install()  # time flows as usual; a test may jump it forward
    page.goto(live_server)
    page.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=30_000)
    page.locator("#panel-tab-services-index").click()
    page.wait_for_function(
        f"() => document.querySelector('{PANEL}')?.dataset.ready === 'true'"
        f" && document.querySelector('{PANEL} .svc-panel')?.dataset.drawn",
        timeout=20_000,
    )
    yield page
    assert errors == []
    context.close()


def chart_option(page: Page, chart: str) -> Any:
    """The option ECharts holds for one of the panel's charts."""
    return page.evaluate(
        """async ([url, selector]) => {
            const echarts = await import(url);
            return echarts.getInstanceByDom(document.querySelector(selector)).getOption();
        }""",
        [ECHARTS, f'{PANEL} [data-chart="{chart}"]'],
    )


def map_regions(page: Page) -> dict[str, float | None]:
    """Each region the choropleth holds (by area code) with its value; NaN (no data) as None."""
    regions: dict[str, float | None] = page.evaluate(
        """async ([url, selector]) => {
            const echarts = await import(url);
            const data = echarts.getInstanceByDom(document.querySelector(selector))
                .getModel().getSeriesByIndex(0).getData();
            const regions = {};
            for (let i = 0; i < data.count(); i += 1) {
                const value = data.get('value', i);
                regions[data.getName(i)] = Number.isNaN(value) ? null : value;
            }
            return regions;
        }""",
        [ECHARTS, f'{PANEL} [data-chart="map"]'],
    )
    return regions


def test_the_panel_draws_the_index_map_charts_and_late_list(page: Page, api: Callable[..., Any]) -> None:
    data = api("/api/services/panel")
    province = data["province"]
    assert data["period"] == "2025" and data["localities"]["scheme"] == "legacy"
    panel = page.locator(PANEL)
    expect(panel.locator(".svc-simulated")).to_be_visible()
    expect(panel.locator(".svc-simulated")).to_have_text("Dữ liệu mô phỏng")
    expect(panel.locator(".svc-title")).to_have_text("Dịch vụ công trực tuyến")

    gauge = chart_option(page, "gauge")["series"][0]["data"][0]
    assert gauge["value"] == province["index"] and province["index"] > 0
    shown = page.evaluate(
        "(v) => new Intl.NumberFormat('vi-VN', {maximumFractionDigits: 1}).format(v)", gauge["value"]
    )
    expect(panel.locator('[data-chart="gauge"] svg')).to_contain_text(shown)
    expect(panel.locator(".svc-band")).to_have_text(province["band"]["name"]["vi"])

    groups = chart_option(page, "groups")
    assert groups["yAxis"][0]["data"] == [g["name"]["vi"] for g in province["groups"]]
    assert groups["series"][0]["data"] == [g["points"] for g in province["groups"]]
    channels = chart_option(page, "channels")["series"][0]["data"]
    assert [c["value"] for c in channels] == [data["channels"][k] for k in ("walk_in", "online", "postal")]
    trends = chart_option(page, "trends")["series"]
    assert trends[1]["data"] == [m["index"] for m in data["trends"]] and len(data["trends"]) == 9
    for chart in ("gauge", "groups", "channels", "trends", "agencies", "map"):
        assert panel.locator(f'[data-chart="{chart}"] svg path').count() > 3, chart

    districts = {
        f["properties"]["code"] for f in api("/api/areas", scheme="legacy", level="district")["features"]
    }
    regions = map_regions(page)
    assert set(regions) == districts and len(districts) == 9
    assert {code: regions[code] for code in districts} == {
        row["code"]: row["index"] for row in data["localities"]["items"]
    } | {code: None for code in districts - {row["code"] for row in data["localities"]["items"]}}
    assert panel.locator('[data-chart="map"] svg path').count() >= len(districts)

    targets = panel.locator(".svc-target")
    expect(targets).to_have_count(len(province["targets"]))
    first = province["targets"][0]
    name = panel.locator(f'.svc-target[data-target="{first["id"]}"] .svc-target-name')
    expect(name).to_contain_text(first["name"]["vi"])
    expect(name.locator(".svc-target-plan")).to_have_text(f"(kế hoạch năm {first['year']})")

    rows = panel.locator('.svc-table[data-state="late"] tbody tr')
    expect(rows).to_have_count(len(data["late"]))
    assert data["late"][0]["code"] == LATE_CODE
    panel.screenshot(path="/tmp/services_panel.png")

    with page.context.expect_page() as opened:
        rows.first.locator(".svc-letter").click()
    letter = opened.value
    letter.wait_for_load_state()
    assert letter.url.endswith(f"/api/services/dossiers/{LATE_CODE}/apology-letter")
    expect(letter.locator("body")).to_contain_text(LATE_CODE)
    letter.close()


def test_a_language_switch_relabels_the_panel(page: Page, api: Callable[..., Any]) -> None:
    province = api("/api/services/panel")["province"]
    page.get_by_role("button", name="English").click()
    panel = page.locator(PANEL)
    expect(panel.locator(".svc-title")).to_have_text("Online public services")
    expect(panel.locator(".svc-simulated")).to_have_text("Simulated data")
    expect(panel.locator('[data-card="dossiers"] th').first).to_have_text("Dossier, procedure")
    expect(panel.locator(".svc-band")).to_have_text(province["band"]["name"]["en"])
    groups = chart_option(page, "groups")
    assert groups["yAxis"][0]["data"] == [g["name"]["en"] for g in province["groups"]]
    assert chart_option(page, "trends")["series"][1]["name"] == "Decision 766 index"
    page.get_by_role("button", name="日本語").click()
    expect(panel.locator(".svc-title")).to_have_text("オンライン公共サービス")
    expect(panel.locator('[data-card="map"] .svc-card-title')).to_have_text("地域ランキング")


def test_names_from_imported_files_are_shown_as_text(page: Page, api: Callable[..., Any]) -> None:
    row = page.locator(f'{PANEL} tr[data-code="{LATE_CODE}"]')
    expect(row.locator(".svc-agency")).to_have_text(AGENCY_NAME)
    expect(row).to_contain_text(PROCEDURE_NAME)
    agencies = chart_option(page, "agencies")
    first = api("/api/services/panel")["agencies"][0]
    assert first["name"] == AGENCY_NAME
    assert agencies["yAxis"][0]["data"][0] == f"{first['rank']}. {first['name']}"
    page.evaluate(
        """async ([url, selector]) => {
            const echarts = await import(url);
            echarts.getInstanceByDom(document.querySelector(selector))
                .dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0});
        }""",
        [ECHARTS, f'{PANEL} [data-chart="agencies"]'],
    )
    expect(page.locator(f'{PANEL} [data-chart="agencies"] .svc-tip strong')).to_have_text(
        f"{first['rank']}. {first['name']}"
    )
    assert page.evaluate("() => window.__xss") is None
    assert page.locator('img[src="x"], b:text("Thử"), script:text("__xss")').count() == 0


def test_the_panel_refreshes_every_30_seconds(page: Page, province: ServicesRuntime) -> None:
    panel = page.locator(f"{PANEL} .svc-panel")
    loaded = panel.get_attribute("data-loaded-at")
    later = "H57.X99-250102-0002"
    province.import_chunks([chunk_of([late_row(later, "09:00")])], "test", "csv")
    page.clock.run_for("00:20")
    expect(page.locator(f'{PANEL} tr[data-code="{later}"]')).to_have_count(0)
    assert panel.get_attribute("data-loaded-at") == loaded
    page.clock.run_for("00:11")
    expect(page.locator(f'{PANEL} tr[data-code="{later}"]')).to_have_count(1)
    assert panel.get_attribute("data-loaded-at") != loaded
