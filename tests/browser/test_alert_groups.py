"""The incidents panel with a flood of alerts of one rule, in a real browser against the real app: the rule
is one row "× 30" that expands to its alerts (each with its action), a rule with few alerts keeps a row
per alert above it when more severe, the header counts every open alert, and names stay text."""

from __future__ import annotations

from typing import Protocol

import pytest
from playwright.sync_api import Page, expect

from cityops.core.kernel import Kernel
from cityops.core.rules.alerts import AlertOpening, write_changes
from cityops.core.rules.definitions import Rule, parse_rule
from cityops.web import pages

pytestmark = pytest.mark.browser
VI = pages.kernel_texts("vi")
PAYLOAD = 'Camera mất tín hiệu <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


class Dashboard(Protocol):  # tests/browser/conftest.py
    def open(self) -> None: ...


class PageLog(Protocol):  # tests/browser/conftest.py
    errors: list[str]


def rule(rule_id: str, title: str, severity: str) -> Rule:
    return parse_rule(
        {
            "id": rule_id,
            "kind": "threshold",
            "title": {"vi": title, "en": title, "ja": title},
            "severity": severity,
            "category": "traffic",
            "entity_type": "Camera",
            "metric": "occupancy",
            "op": ">",
            "value": 1,
        }
    )


def raise_alerts(kernel: Kernel, which: Rule, count: int, start_ms: int) -> None:
    for i in range(count):
        opening = AlertOpening(which, f"urn:x:{which.id}-{i}", f"Nguồn {i}", None, None, None, {"vi": "-"})
        write_changes(kernel.engine, [opening], start_ms + i * 1000)


@pytest.mark.usefixtures("signed_in")
def test_a_flooding_rule_is_one_row_that_expands(
    dashboard: Dashboard, page: Page, kernel: Kernel, page_log: PageLog
) -> None:
    now_ms = int(page.evaluate("Date.now()"))
    raise_alerts(kernel, rule("late", "Hồ sơ quá hạn trả kết quả", "high"), 30, now_ms - 120_000)
    raise_alerts(kernel, rule("camera-down", PAYLOAD, "critical"), 2, now_ms - 600_000)
    dashboard.open()

    rows = page.locator("#alert-list > li")
    expect(rows).to_have_count(3)
    expect(page.locator("#incidents-counts")).to_have_text(
        VI["incidents.counts"].replace("{alerts}", "32").replace("{incidents}", "0")
    )
    # The critical alerts come first although older; each keeps its own row.
    expect(rows.nth(0)).to_have_attribute("data-severity", "critical")
    expect(rows.nth(1)).to_have_attribute("data-severity", "critical")
    expect(page.locator("#alert-list > li[data-alert] .row-title")).to_have_text([PAYLOAD, PAYLOAD])
    expect(page.locator("#alert-list > li[data-alert] .row-meta span")).to_have_text(["Nguồn 1", "Nguồn 0"])
    assert page.locator("#alert-list script, #alert-list img").count() == 0
    assert page.evaluate("window.pwned") is None

    group = rows.nth(2)
    expect(group).to_have_attribute("data-rule", "late")
    expect(group.locator(".group-count")).to_have_text("× 30")
    expect(group.locator(".row-title")).to_have_text("▸Hồ sơ quá hạn trả kết quả")
    expect(group.locator(".badge.severity")).to_have_text(VI["severity.high"])
    expect(group.locator(".newest-source")).to_have_text(
        VI["incidents.group.newest"].replace("{source}", "Nguồn 29")
    )
    expect(group.locator(".group-members")).to_have_count(0)

    group.locator("button.row-title").click()
    members = group.locator(".group-members > li[data-alert]")
    expect(members).to_have_count(30)
    expect(group.locator("button.row-title")).to_have_attribute("aria-expanded", "true")
    expect(members.locator(".row-meta span").first).to_have_text("Nguồn 29")
    expect(members.locator('button[data-action="open"]')).to_have_count(30)
    expect(group.locator(".group-more")).to_have_count(0)  # all 30 fit in one page
    page.screenshot(path="/tmp/alert-groups.png")

    # A member keeps its action: it opens an incident, and the group stays expanded after the refresh.
    members.first.locator('button[data-action="open"]').click()
    expect(page.locator("#incident-detail")).to_be_visible()
    page.get_by_role("button", name=VI["incidents.back"]).click()
    expect(members.first.locator('button[data-action="view"]')).to_have_count(1)
    expect(members).to_have_count(30)

    group.locator("button.row-title").click()
    expect(group.locator(".group-members")).to_have_count(0)
    expect(rows).to_have_count(3)
    assert page_log.errors == []


@pytest.mark.usefixtures("signed_in")
def test_a_large_group_reads_its_members_page_by_page(
    dashboard: Dashboard, page: Page, kernel: Kernel, page_log: PageLog
) -> None:
    now_ms = int(page.evaluate("Date.now()"))
    raise_alerts(kernel, rule("late", "Hồ sơ quá hạn trả kết quả", "high"), 60, now_ms - 120_000)
    dashboard.open()
    group = page.locator('#alert-list > li[data-rule="late"]')
    expect(group.locator(".group-count")).to_have_text("× 60")
    group.locator("button.row-title").click()
    members = group.locator(".group-members > li[data-alert]")
    expect(members).to_have_count(50)
    more = group.get_by_role("button", name=VI["incidents.group.more"].replace("{count}", "10"))
    more.click()
    expect(members).to_have_count(60)
    expect(group.locator(".group-more")).to_have_count(0)
    assert page_log.errors == []
