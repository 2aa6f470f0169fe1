"""A real Chromium (Debian's, never a downloaded one) driving the dashboard served by the real app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Playwright, sync_playwright

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.kernel import Kernel
from cityops.web import vendor

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # WebGL without a GPU: MapLibre draws through ANGLE's software renderer.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


@pytest.fixture
def app(kernel: Kernel, settings: Settings) -> FastAPI:
    """The real app on the sample province, flagged as simulated (no simulators run: the test feeds it)."""
    kernel.simulated = True
    return create_app(kernel, settings)


@pytest.fixture
def vendor_files(node_modules: Path) -> None:
    """Set-up's copy of MapLibre and ECharts; made here when a checkout has not run `make setup` yet."""
    if not all((vendor.VENDOR_DIR / file.target).is_file() for file in vendor.FILES):
        vendor.copy_vendor_files(node_modules)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make apt-test` installs Debian's chromium")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
