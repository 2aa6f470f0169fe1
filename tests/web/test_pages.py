"""The dashboard page and its static files, served by the app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityops.config import Settings
from cityops.web import pages, vendor

STATIC = pages.STATIC_DIR
VENDOR_TARGETS = {f"/static/vendor/{file.target}" for file in vendor.FILES}


def page_app(language: str | None = None) -> FastAPI:
    app = FastAPI()
    if language is not None:
        app.state.settings = Settings(language=language)
    pages.mount(app)
    return app


def test_dashboard_is_vietnamese_by_default() -> None:
    with TestClient(page_app()) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in response.text
    assert '<title data-i18n="app.title">Trung tâm điều hành thành phố thông minh</title>' in response.text
    assert "DỮ LIỆU MÔ PHỎNG — Simulated data — シミュレーションデータ" in response.text


def test_page_forbids_loading_anything_from_elsewhere() -> None:
    with TestClient(page_app()) as client:
        response = client.get("/")
    policy = dict(rule.split(" ", 1) for rule in response.headers["content-security-policy"].split("; "))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_dashboard_follows_the_configured_language() -> None:
    with TestClient(page_app("ja")) as client:
        response = client.get("/")
    assert '<html lang="ja">' in response.text
    assert "スマートシティ統合運用センター" in response.text


@pytest.mark.parametrize("path", sorted(p.relative_to(STATIC).as_posix() for p in STATIC.glob("js/*.js")))
def test_modules_are_served_as_javascript(path: str) -> None:
    with TestClient(page_app()) as client:
        response = client.get(f"/static/{path}")
    assert response.status_code == 200
    # Browsers refuse to run an ES module served under any other type.
    assert response.headers["content-type"].startswith("text/javascript")


def local_imports(module: Path) -> list[str]:
    return re.findall(r"""^import\s[^'"]*['"]([^'"]+)['"];""", module.read_text("utf-8"), re.MULTILINE)


def test_every_module_import_resolves() -> None:
    modules = sorted((STATIC / "js").glob("*.js"))
    seen = 0
    for module in modules:
        for target in local_imports(module):
            seen += 1
            if target.startswith("/static/vendor/"):
                assert target in VENDOR_TARGETS, (module.name, target)
            else:
                assert target.startswith("./"), (module.name, target)
                assert (module.parent / target).is_file(), (module.name, target)
    assert seen >= len(modules)


def test_page_references_only_files_that_set_up_provides() -> None:
    with TestClient(page_app()) as client:
        html = client.get("/").text
        for url in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
            if url.startswith("/static/vendor/"):
                assert url in VENDOR_TARGETS, url
            else:
                assert client.get(url).status_code == 200, url


def test_scripts_never_parse_data_as_html() -> None:
    # Entity names come from devices and citizens' reports: text only, never markup.
    for module in (STATIC / "js").glob("*.js"):
        source = module.read_text("utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "setHTML", "document.write"):
            assert sink not in source, (module.name, sink)
