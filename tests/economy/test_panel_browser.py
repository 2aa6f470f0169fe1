"""The economy panel in a real Chromium against the real app with the demo's data: the series table
with published and simulated figures told apart, the monthly chart, the rankings and the programme
board drawn from the API's figures, in Vietnamese, English and Japanese."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.economy import demo

pytestmark = pytest.mark.browser

PANEL = "#panel-economy-economy"
ECHARTS = "/static/vendor/echarts/echarts.esm.min.mjs"


@pytest.fixture
def page(
    kernel: Kernel,
    browser: Browser,
    vendor_files: None,
    live_server: str,
    session_cookies: list[dict[str, str]],
) -> Iterator[Page]:
    with write_transaction(kernel.engine) as conn:
        demo.load(conn, date.today(), {i.id for i in kernel.indicators})
    context: BrowserContext = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")
    context.add_cookies(session_cookies)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(live_server)
    page.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=30_000)
    page.locator("#panel-tab-economy-economy").click()
    page.wait_for_function(
        f"() => document.querySelector('{PANEL} .eco-panel')?.dataset.drawn", timeout=20_000
    )
    yield page
    assert errors == []
    context.close()


def chart_option(page: Page, chart: str) -> Any:
    return page.evaluate(
        """async ([url, selector]) => {
            const echarts = await import(url);
            return echarts.getInstanceByDom(document.querySelector(selector)).getOption();
        }""",
        [ECHARTS, f'{PANEL} [data-chart="{chart}"]'],
    )


def test_the_panel_shows_series_rankings_and_programme(page: Page, api: Callable[..., Any]) -> None:
    data = api("/api/economy/panel")
    panel = page.locator(PANEL)
    expect(panel.locator(".eco-simulated")).to_be_visible()
    rows = panel.locator(".eco-table:not(.eco-board) tbody tr")
    expect(rows).to_have_count(len(data["series"]))
    exports = next(r for r in data["series"] if r["series"]["code"] == "exports")
    row = panel.locator('tr[data-series="exports"]')
    expect(row.locator("th")).to_have_text("Kim ngạch xuất khẩu")
    expect(row.locator(".eco-tag")).to_have_text("Mô phỏng")
    expect(row.locator("td").nth(0)).to_have_text(exports["period_label"]["vi"])

    panel.locator(".eco-select").select_option("exports")
    months = chart_option(page, "months")["series"]
    assert months[1]["data"] == exports["months"]["this_year"]
    assert months[0]["data"] == exports["months"]["last_year"]
    countries = chart_option(page, "countries")
    assert countries["yAxis"][0]["data"] == [r["name"]["vi"] for r in data["rankings"]["country"][:10]]
    assert countries["series"][0]["data"] == [r["registered_musd"] for r in data["rankings"]["country"][:10]]
    expect(panel.locator(".eco-published")).to_contain_text("Nhật Bản: thứ 2/65")
    expect(panel.locator(".eco-published")).to_contain_text("327 dự án")

    board = chart_option(page, "programme")
    late = [sum(m["late"] for m in p["milestones"]) for p in data["programme"]]
    assert board["series"][2]["data"] == late and sum(late) > 0
    for project in data["programme"]:
        expect(panel.locator(f'tr[data-project="{project["code"]}"]')).to_have_attribute(
            "data-late", str(project["late_milestones"])
        )
    for chart in ("months", "countries", "sectors", "programme"):
        assert panel.locator(f'[data-chart="{chart}"] svg path').count() > 3, chart
    panel.screenshot(path="/tmp/economy_panel.png")


def test_published_figures_are_told_from_simulated_ones_and_languages_switch(
    page: Page, api: Callable[..., Any]
) -> None:
    panel = page.locator(PANEL)
    page.get_by_role("button", name="English").click()
    expect(panel.locator(".eco-title")).to_contain_text("Economy, investment and the smart-city programme")
    expect(panel.locator(".eco-published")).to_contain_text(
        "Japan: 2 of 65 investing countries and territories"
    )
    expect(panel.locator('tr[data-series="exports"] th')).to_have_text("Exports")
    page.get_by_role("button", name="日本語").click()
    expect(panel.locator(".eco-published")).to_contain_text("日本：投資国・地域65中2位、327件")
    expect(panel.locator('tr[data-series="exports"] th')).to_have_text("輸出額")
    assert chart_option(page, "programme")["series"][2]["name"] == "遅延"
