"""The captive portal's whole flow in Debian's Chromium on a phone-sized screen: terms, phone code, the
credentials posted to the access point's login page; a voucher in English; Japanese texts."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from tests.wifi.conftest import World
from tests.wifi.test_portal import PHONE, last_code

pytestmark = pytest.mark.browser
NAS_LOGIN = "http://10.1.0.1:3990/logon"


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[Page, list[dict[str, list[str]]]]]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    posted: list[dict[str, list[str]]] = []

    def nas_login(route: Route) -> None:  # the access point's login page, answered here
        posted.append(parse_qs(route.request.post_data or ""))
        route.fulfill(status=200, content_type="text/html", body="<p>hotspot: logged in</p>")

    context.route(NAS_LOGIN, nas_login)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, posted
    context.close()
    assert errors == []


def test_phone_sign_in_posts_credentials_to_the_access_point(
    world: World, live_server: str, phone: tuple[Page, list[dict[str, list[str]]]]
) -> None:
    page, posted = phone
    page.goto(f"{live_server}/api/wifi/portal/cong-dong?login_url={NAS_LOGIN}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", name="Điều khoản sử dụng")).to_be_visible()
    expect(page.locator("#continue")).to_be_disabled()
    page.locator("#agree").check()
    page.locator("#continue").click()
    page.locator("#phone").fill("12")
    page.locator("#send-code").click()
    expect(page.locator("#phone-error")).to_have_text("Số điện thoại không hợp lệ")
    page.locator("#phone").fill(PHONE)
    page.locator("#send-code").click()
    expect(page.locator("#code")).to_be_visible()
    page.locator("#code").fill(last_code(world))
    page.locator("#verify").click()
    expect(page.get_by_text("hotspot: logged in")).to_be_visible()
    (form,) = posted
    username, password = form["username"][0], form["password"][0]
    assert username.startswith("p-")
    assert world.rest("authorize", "nas-park", User_Name=username, User_Password=password).status_code == 200


def test_voucher_in_english_and_japanese_texts(
    world: World, live_server: str, phone: tuple[Page, list[dict[str, list[str]]]]
) -> None:
    page, _ = phone
    page.goto(f"{live_server}/api/wifi/portal/cong-dong?lang=ja")
    expect(page.get_by_role("heading", name="利用規約")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Terms of use")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#agree").check()
    page.locator("#continue").click()
    page.locator("#voucher").fill("WRONG")
    page.locator("#use-voucher").click()
    expect(page.locator("#voucher-error")).to_have_text("Unknown or expired voucher")
    page.locator("#voucher").fill(world.vouchers["cong-dong"])
    page.locator("#use-voucher").click()
    expect(page.get_by_text("Connected. Have a nice day!")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-username", world.vouchers["cong-dong"])
