"""Each series as the leadership reads it: the period from January to the latest month known, its
value, its change on the same period of the previous year (computed, and as published), last year's
value and the gap to the year's target."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection

from cityops.economy import targets as target_store
from cityops.economy.catalogue import Series, all_series
from cityops.economy.change import level, year_on_year
from cityops.economy.figures import Figure, series_in_force
from cityops.economy.periods import Period


@dataclass(frozen=True)
class SeriesStatus:
    series: Series
    period: Period | None
    value: float | None
    summed: bool
    qualifier: str | None
    change_computed: float | None
    change_published: float | None
    last_year: float | None
    source: str | None
    simulated: bool
    target: target_store.Gap | None

    @property
    def change(self) -> float | None:
        """The published change where there is one (the official figure), else the computed one."""
        return self.change_published if self.change_published is not None else self.change_computed

    def to_dict(self, lang: str) -> dict[str, Any]:
        return {
            "series": self.series.to_dict(lang),
            "period": None if self.period is None else self.period.key,
            "period_label": None if self.period is None else self.period.label(lang),
            "value": self.value,
            "summed_from_months": self.summed,
            "qualifier": self.qualifier,
            "change_pct": self.change,
            "change_computed_pct": self.change_computed,
            "change_published_pct": self.change_published,
            "last_year": self.last_year,
            "source": self.source,
            "simulated": self.simulated,
            "target": None if self.target is None else asdict(self.target),
        }


def latest_month(figures: dict[Period, Figure], year: int, through: int = 12) -> int | None:
    months = [p.last_month for p in figures if p.year == year and p.last_month <= through]
    return max(months) if months else None


def status(conn: Connection, series: Series, year: int, through: int = 12) -> SeriesStatus:
    figures = series_in_force(conn, series.code)
    month = latest_month(figures, year, through)
    target = target_store.of_year(conn, year).get(series.code)
    if month is None:
        gap = None if target is None else target_store.gap(target, None, None)
        return SeriesStatus(series, None, None, False, None, None, None, None, None, False, gap)
    period = Period.cumulative(year, month)
    if period not in figures and not series.additive:
        period = Period.month(year, month)  # a share or an index: the latest month as it stands
    values = {p: f.value for p, f in figures.items() if f.value is not None}
    now = level(values, period, series.additive)
    before = level(values, period.previous_year(), series.additive)
    stored = figures.get(period)
    used = [f for f in (stored, *(figures.get(m) for m in period.month_list())) if f is not None]
    change_computed = year_on_year(values, period, series.additive)
    change_published = stored.change_pct if stored is not None else None
    change = change_published if change_published is not None else change_computed
    gap = None if target is None else target_store.gap(target, None if now is None else now.value, change)
    return SeriesStatus(
        series=series,
        period=period,
        value=None if now is None else now.value,
        summed=bool(now and now.summed),
        qualifier=stored.qualifier if stored is not None else None,
        change_computed=change_computed,
        change_published=change_published,
        last_year=None if before is None else before.value,
        source=used[0].source if used else None,
        simulated=any(f.simulated for f in used),
        target=gap,
    )


def overview(conn: Connection, year: int, through: int = 12) -> list[SeriesStatus]:
    return [status(conn, s, year, through) for s in all_series(conn).values()]
