"""The public pages, rendered on the server with Jinja2 (autoescaped: a citizen's text is shown as text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityops.core.domain import Domain

FOLDER = Path(__file__).parent
ENVIRONMENT = Environment(
    loader=FileSystemLoader(FOLDER / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
)
# No script, no inline code: even markup that slipped through could not run.
POLICY = "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


def render(template: str, lang: str, **context: Any) -> HTMLResponse:
    texts = Domain(name="reports", folder=FOLDER).translations(lang)
    body = ENVIRONMENT.get_template(template).render(lang=lang, t=texts, **context)
    return HTMLResponse(
        body, headers={"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff"}
    )
