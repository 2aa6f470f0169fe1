"""The briefing as a printable HTML page (Jinja2, escaped) and as PDF, printed by Chromium through
Playwright (`page.pdf`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityops.briefing.assemble import VN, Month
from cityops.briefing.texts import TEXTS, number, signed_percent
from cityops.core.domain import BriefingFigure, BriefingSection
from cityops.core.local_time import local_date_time

TEMPLATES = Path(__file__).parent / "templates"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@dataclass(frozen=True)
class Row:
    label: str
    value: tuple[str, ...]  # parts, each kept on one line
    change: str
    source: str
    simulated: bool


def row(figure: BriefingFigure, lang: str) -> Row:
    """One figure as the briefing prints it."""
    parts = []
    if figure.value is not None:
        amount = number(figure.value, lang)
        parts.append(" ".join(p for p in (figure.qualifier, amount, figure.unit) if p))
    if figure.text:
        parts.append(figure.text)
    change = "" if figure.change_pct is None else signed_percent(figure.change_pct, lang)
    return Row(figure.label, tuple(parts) or ("–",), change, figure.source, figure.simulated)


def html(sections: list[BriefingSection], month: Month, lang: str, made: datetime | None = None) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    texts = TEXTS[lang]
    made = made or datetime.now(VN)
    pages: list[dict[str, Any]] = [
        {
            "key": s.key,
            "title": s.title,
            "figures": s.figures,
            "rows": [row(f, lang) for f in s.figures],
            "notes": s.notes,
        }
        for s in sections
    ]
    return environment.get_template("briefing.html").render(
        lang=lang,
        title=texts["title"].format(month=month.month, year=month.year),
        generated=texts["generated"].format(time=local_date_time(made, lang)),
        texts=texts,
        sections=pages,
        any_simulated=any(f.simulated for s in sections for f in s.figures),
    )


def pdf(page_html: str, output: Path, chromium: Path = CHROMIUM) -> None:
    """Print `page_html` to `output` (A4) with Chromium, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(page_html, wait_until="load")
            page.pdf(path=str(output), format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()
