"""A real Chromium (Debian's, never a downloaded one) driving the dashboard served by the real app.

Fixtures for the dashboard's tests: `page` (in a `context` that refuses every request leaving the
machine, noted in `page_log` with script errors), `signed_in` (the operator's session cookies),
`dashboard` (open it and wait until the map has drawn, read what MapLibre rendered) and `api` (GET as
`test-admin`: what the page should be showing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.kernel import Kernel


@pytest.fixture
def app(kernel: Kernel, settings: Settings) -> FastAPI:
    """The real app on the sample province, flagged as simulated (no simulators run: the test feeds it)."""
    kernel.simulated = True
    return create_app(kernel, settings)


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


@dataclass(frozen=True)
class Dashboard:
    page: Page
    url: str

    def open(self) -> None:
        self.page.goto(self.url)
        self.wait_ready()

    def wait_ready(self) -> None:
        try:
            self.page.wait_for_function(READY, timeout=20_000)
        except PlaywrightTimeoutError:
            raise AssertionError(f"the dashboard did not get ready: {self.page.evaluate(STATE)}") from None

    def rendered(self, layer: str, key: str) -> set[Any]:
        """Distinct values of one property among the features MapLibre has drawn in a layer."""
        values: list[Any] = self.page.evaluate(
            "([layer, key]) => window.cityopsMap.queryRenderedFeatures({layers: [layer]})"
            ".map(f => f.properties[key])",
            [layer, key],
        )
        return set(values)


@pytest.fixture
def dashboard(page: Page, live_server: str) -> Dashboard:
    return Dashboard(page, live_server)


@pytest.fixture
def signed_in(context: BrowserContext, session_cookies: list[dict[str, str]]) -> None:
    context.add_cookies(session_cookies)  # type: ignore[arg-type]
