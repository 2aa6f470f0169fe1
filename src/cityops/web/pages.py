"""Serves the dashboard page (`GET /`) and its static files (`/static`)."""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from cityops import __version__
from cityops.core.domain import LANGUAGES, Domain

log = logging.getLogger(__name__)

FOLDER = Path(__file__).parent
STATIC_DIR = FOLDER / "static"
TRANSLATIONS_DIR = FOLDER / "translations"
DEFAULT_LANGUAGE = "vi"

# Browsers refuse an ES module served under any other type; some systems map .mjs to nothing.
mimetypes.add_type("text/javascript", ".mjs")

# Everything the page loads comes from this server; MapLibre runs its worker from a blob: URL and draws
# into blob:/data: images. The policy doubles as a guard against any request leaving the machine.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "img-src 'self' data: blob:",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}

templates = Jinja2Templates(directory=FOLDER / "templates")
router = APIRouter(include_in_schema=False)


class DashboardStatic(StaticFiles):
    """Static files that browsers revalidate (a cheap 304) so an upgrade never mixes old and new modules."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@cache
def kernel_texts(language: str) -> dict[str, str]:
    """The kernel's interface texts in one language (domains' texts are merged by the API)."""
    texts: dict[str, str] = json.loads((TRANSLATIONS_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return texts


def simulated_banner() -> str:
    """The banner reads the same in every language, all three side by side."""
    return " — ".join(kernel_texts(language)["simulated.banner"] for language in LANGUAGES)


def configured_language(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    language = getattr(settings, "language", DEFAULT_LANGUAGE)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    language = configured_language(request)
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "language": language,
            "languages": LANGUAGES,
            "t": kernel_texts(language),
            "banner": simulated_banner(),
            "version": __version__,
        },
        headers=PAGE_HEADERS,
    )


def mount(app: FastAPI, domains: Iterable[Domain] = ()) -> None:
    """Adds the page, `/static` and each domain's `/static/domains/<name>` (by `cityops.api.app`)."""
    if not (STATIC_DIR / "vendor").is_dir():
        log.warning(
            "%s is missing: run `make setup` or `python -m cityops.web.vendor`", STATIC_DIR / "vendor"
        )
    app.include_router(router)
    # Mounted before `/static` so the more specific prefix wins.
    for domain in domains:
        if domain.static_folder is not None:
            app.mount(
                f"/static/domains/{domain.name}",
                DashboardStatic(directory=domain.static_folder),
                name=f"static-{domain.name}",
            )
    app.mount("/static", DashboardStatic(directory=STATIC_DIR), name="static")
