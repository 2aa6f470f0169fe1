"""What the dashboard panel and the briefing show, in one answer: each series against its target and
last year (with the months of both years for a chart), the rankings by country and sector, and the
programme's status board. Texts are given in every language; the page picks one."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from cityops.core.domain import LANGUAGES
from cityops.economy import investment, overview, programme
from cityops.economy.countries import country_name
from cityops.economy.figures import series_in_force
from cityops.economy.periods import Period


def panel(conn: Connection, year: int, through: int, today: date) -> dict[str, Any]:
    series = []
    for status in overview.overview(conn, year, through):
        row = status.to_dict("vi")
        row["series"] = status.series.to_dict()
        row["period_label"] = (
            None if status.period is None else {lang: status.period.label(lang) for lang in LANGUAGES}
        )
        row["months"] = _months(conn, status.series.code, year, through)
        series.append(row)
    rankings = {by: investment.ranking(conn, by, "vi") for by in ("country", "sector")}
    for row in rankings["country"]:
        row["name"] = {lang: country_name(row["key"], lang) for lang in LANGUAGES}
    published = investment.published_countries(conn, "vi")
    for row in published:
        row["name"] = {lang: country_name(row["country"], lang) for lang in LANGUAGES}
    board = programme.portfolio(conn, today)
    simulated = (
        any(r["simulated"] for r in series if r["period"] is not None)
        or any(r["simulated"] for r in rankings["country"])
        or any(p["simulated"] for p in board)
    )
    return {
        "year": year,
        "through": through,
        "today": today.isoformat(),
        "series": series,
        "rankings": rankings,
        "published_countries": published,
        "programme": board,
        "simulated": simulated,
    }


def _months(conn: Connection, code: str, year: int, through: int) -> dict[str, list[float | None]]:
    figures = series_in_force(conn, code)

    def values(of_year: int, last: int) -> list[float | None]:
        found = [(month, figures.get(Period.month(of_year, month))) for month in range(1, 13)]
        return [f.value if f is not None and month <= last else None for month, f in found]

    return {"this_year": values(year, through), "last_year": values(year - 1, 12)}
