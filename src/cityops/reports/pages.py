"""The public pages, rendered on the server with Jinja2 (autoescaped: a citizen's text is shown as text).

Every page works without scripts; the form adds one module of the project's own (the place picker: a
map and "use my location"), so only the form's policy admits scripts, and only from this site.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityops.core.domain import Domain
from cityops.core.local_time import local_date_time

FOLDER = Path(__file__).parent
ENVIRONMENT = Environment(
    loader=FileSystemLoader(FOLDER / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
)
# No script, no inline code: even markup that slipped through could not run.
POLICY = "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
# The form's place picker: the project's own modules and MapLibre's worker, nothing inline.
FORM_POLICY = (
    "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'"
)


def local_time(value: str | None, lang: str) -> str:
    """An ISO time as people in the province read it: Vietnam's time (UTC+7), in the language's order."""
    if not value:
        return ""
    return local_date_time(datetime.fromisoformat(value.replace("Z", "+00:00")), lang)


def render(template: str, lang: str, scripts: bool = False, **context: Any) -> HTMLResponse:
    texts = Domain(name="reports", folder=FOLDER).translations(lang)
    body = ENVIRONMENT.get_template(template).render(
        lang=lang, t=texts, when=lambda value: local_time(value, lang), **context
    )
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": FORM_POLICY if scripts else POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )
