"""The economy's pages of the monthly leadership briefing: the series from January to the month against
the same period of last year and the year's target, the investors' standing, and the programme's
projects with their late milestones."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cityops.core.domain import BriefingFigure, BriefingSection, translated
from cityops.economy import investment, overview, programme
from cityops.economy.countries import country_name
from cityops.economy.units import UNITS

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

FOLDER = Path(__file__).parent


def _text(key: str, lang: str) -> str:
    return translated(FOLDER, key)[lang]


def sections(kernel: Kernel, year: int, month: int, lang: str) -> list[BriefingSection]:
    end_of_month = date(year, month, calendar.monthrange(year, month)[1])
    with kernel.engine.connect() as conn:
        statuses = overview.overview(conn, year, month)
        published = investment.published_countries(conn, lang)
        countries = investment.ranking(conn, "country", lang)[:5]
        board = programme.portfolio(conn, end_of_month)
    figures = []
    for status in statuses:
        if status.period is None:
            continue
        qualifier = _text(f"panel.{status.qualifier}", lang) if status.qualifier else ""
        figures.append(
            BriefingFigure(
                label=f"{status.series.title[lang]} — {status.period.label(lang)}",
                value=status.value,
                unit=UNITS[status.series.unit][lang],
                change_pct=status.change,
                qualifier=qualifier,
                source=status.source or "",
                simulated=status.simulated,
            )
        )
    for row in published:
        figures.append(
            BriefingFigure(
                label=_text("briefing.country_standing", lang).format(
                    country=row["name"], as_of=row["as_of"]
                ),
                text=_text("briefing.country_rank", lang).format(
                    rank=row["rank"], of=row["of_countries"], projects=row["projects"]
                ),
                value=row["registered_musd"],
                unit=UNITS["mn_usd"][lang],
                source=row["source"],
                simulated=row["simulated"],
            )
        )
    for row in countries:
        figures.append(
            BriefingFigure(
                label=_text("briefing.projects_of", lang).format(
                    country=country_name(row["key"], lang), n=row["projects"]
                ),
                value=row["registered_musd"],
                unit=UNITS["mn_usd"][lang],
                source=_text("briefing.project_register", lang),
                simulated=row["simulated"],
            )
        )
    projects = [
        BriefingFigure(
            label=f"{p['title'][lang]} ({p['partner']})",
            value=float(p["late_milestones"]),
            unit=_text("briefing.late_milestones", lang),
            text=_text(f"status.{p['status']}", lang),
            source=_text("briefing.programme_register", lang),
            simulated=p["simulated"],
        )
        for p in board
    ]
    return [
        BriefingSection("economy", _text("briefing.economy", lang), tuple(figures), order=50),
        BriefingSection(
            "programme",
            _text("briefing.programme", lang),
            tuple(projects),
            notes=(_text("briefing.late_note", lang).format(day=end_of_month.isoformat()),),
            order=60,
        ),
    ]
