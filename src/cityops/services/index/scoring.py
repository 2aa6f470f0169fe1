"""Reading the index: the Decision 766 score, the province's targets with their year-end projection and
the GOV.UK trio, for any period (year, quarter, month) and any scope — the province, an agency, or a
locality (the sum of its areas, see `localities`) — plus rankings and monthly trends.

Everything here reads the accumulator's counters (a few dozen integers per scope and period) and the
catalogue's counts; nothing scans dossiers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, Literal

from cityops.services.catalogue import Catalogue, CatalogueStats
from cityops.services.index.accumulator import (
    PROVINCE,
    Aggregates,
    IndexAccumulator,
    agency_scope,
    area_scope,
)
from cityops.services.index.decision766 import IndexConfig, IndexScore, score
from cityops.services.index.targets import (
    CATALOGUE_METRICS,
    DOSSIER_METRICS,
    Target,
    evaluate_targets,
    load_targets,
    service_trio,
)
from cityops.services.localities import AreaBook, Scheme
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import Period

ScopeKind = Literal["province", "agency", "locality"]
# Stocks, not flows: left out when a year is projected from its recent months.
_STOCKS = frozenset(
    ("carried_over", "within_time", "due_soon", "overdue", "supplement_on_time", "supplement_late")
)
PROJECTION_WINDOW = 3


@cache
def index_config() -> IndexConfig:
    return IndexConfig.load()


@cache
def targets() -> tuple[Target, ...]:
    return tuple(load_targets())


def combine(items: Iterable[Aggregates]) -> Aggregates:
    totals = [0] * len(fields(Aggregates))
    for item in items:
        for position, value in enumerate(astuple(item)):
            totals[position] += value
    return Aggregates(*totals)


@dataclass(frozen=True)
class Scope:
    """What an index is read for: `province`, `agency:<code>` or `locality:<area code>`."""

    kind: ScopeKind
    code: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, _, code = text.partition(":")
        if kind == "province" and not code:
            return cls("province")
        if kind in ("agency", "locality") and code:
            return cls(kind, code)  # type: ignore[arg-type]
        raise ValueError(f"scope: {text!r} is not 'province', 'agency:<code>' or 'locality:<area code>'")

    @property
    def key(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"


class Reader:
    """Reads one accumulator (under the runtime's lock) with the catalogue and areas of the moment."""

    def __init__(
        self, accumulator: IndexAccumulator, catalogue: Catalogue, area_book: AreaBook, now: datetime
    ) -> None:
        self.accumulator = accumulator
        self.catalogue = catalogue
        self.area_book = area_book
        self.now = now
        self._localities: dict[Scheme, dict[str, list[str]]] = {}

    # -- counters -----------------------------------------------------------------------------------------

    def localities(self, scheme: Scheme) -> dict[str, list[str]]:
        if scheme not in self._localities:
            self._localities[scheme] = self.area_book.localities(scheme)
        return self._localities[scheme]

    def scheme(self, period: Period) -> Scheme:
        return self.area_book.scheme_for(period.start, period.end)

    def aggregates(self, scope: Scope, period: Period) -> Aggregates:
        if scope.kind == "province":
            return self.accumulator.aggregates(PROVINCE, period)
        assert scope.code is not None
        if scope.kind == "agency":
            return self.accumulator.aggregates(agency_scope(scope.code), period)
        members = self.localities(self.scheme(period)).get(scope.code)
        if members is None:
            members = self.localities("2025" if self.scheme(period) == "legacy" else "legacy").get(scope.code)
        if members is None:
            raise LookupError(f"scope: {scope.code!r} is not a locality (a legacy district or a 2025 ward)")
        return combine(self.accumulator.aggregates(area_scope(code), period) for code in members)

    def catalogue_stats(self, scope: Scope) -> CatalogueStats:
        """All procedures for the province; for an agency, those of its tier (provincial or local); for a
        locality, the local ones (district and commune)."""
        tier = "all"
        if scope.kind == "locality":
            tier = "local"
        elif scope.kind == "agency":
            assert scope.code is not None
            try:
                tier = "province" if self.catalogue.agency(scope.code).level == "province" else "local"
            except LookupError:
                tier = "local"
        return tier_stats(self.catalogue, tier)

    # -- the index ----------------------------------------------------------------------------------------

    def scoring_day(self, period: Period) -> date:
        """The day whose indicator set applies: the period's last day, or today while it runs."""
        return min(period.end - timedelta(days=1), self.now.date())

    def index(self, scope: Scope, period: Period, aggregates: Aggregates | None = None) -> IndexScore:
        found = self.aggregates(scope, period) if aggregates is None else aggregates
        return score(
            index_config(), self.scoring_day(period), dossiers=found, catalogue=self.catalogue_stats(scope)
        )

    def summary(self, scope: Scope, period: Period) -> dict[str, Any]:
        """Everything about one scope and period: index, groups, indicators, trio, targets, projection."""
        found = self.aggregates(scope, period)
        result = self.index(scope, period, found)
        return {
            "scope": scope.key,
            "name": self.scope_name(scope),
            "period": period.key,
            "index": _round(result.index),
            "points": round(result.points, 2),
            "available_points": round(result.available, 2),
            "band": None
            if result.band is None
            else {"id": result.band.id, "name": result.band.name.model_dump()},
            "groups": [
                {
                    "id": g.id,
                    "name": _group_names()[g.id],
                    "points": round(g.points, 2),
                    "available": round(g.available, 2),
                    "max_points": g.max_points,
                }
                for g in result.groups
            ],
            "indicators": [
                {
                    "id": s.id,
                    "group": s.group,
                    "name": _indicator_names()[s.id],
                    "value": _round(s.value, 4),
                    "points": _round(s.points),
                    "max_points": s.max_points,
                    "threshold": _thresholds()[s.id],
                }
                for s in result.indicators
            ],
            "trio": _trio(found),
            "counts": _counts(found),
            "targets": self.targets(scope, period, found),
            "projection": self.projection(scope, period),
        }

    def targets(self, scope: Scope, period: Period, found: Aggregates) -> list[dict[str, Any]]:
        """The targets of the period's year: the value over the period (over the year to date for a
        year), the gap to the minimum, and the year-end value at the current pace."""
        year = Period("year", period.start.year)
        last_second = datetime.combine(year.end, datetime.min.time(), VN_TZ) - timedelta(seconds=1)
        monthly = [self.aggregates(scope, m) for m in year.months() if m.start <= self.now.date()]
        stats = self.catalogue_stats(scope)
        statuses = evaluate_targets(
            list(targets()),
            year=year.index,
            year_aggregates=self.aggregates(scope, year) if period.kind != "year" else found,
            monthly=monthly,
            catalogue=stats,
            as_of=min(self.now, last_second),
        )
        result = []
        for status in statuses:
            value = status.current if period.kind == "year" else target_value(status.target, found, stats)
            result.append(
                {
                    "id": status.target.id,
                    "year": status.target.year,
                    "name": status.target.name.model_dump(),
                    "minimum": status.target.minimum,
                    "value": _round(value, 4),
                    "gap": None if value is None else round(status.target.minimum - value, 4),
                    "met": None if value is None else value >= status.target.minimum,
                    "year_to_date": _round(status.current, 4),
                    "projected_year_end": _round(status.projected, 4),
                    "on_track": status.on_track,
                }
            )
        return result

    def projection(self, scope: Scope, period: Period) -> dict[str, Any] | None:
        """Indicative year-end index at the current pace (only while the period's year runs)."""
        year = Period("year", period.start.year)
        if not year.start <= self.now.date() < year.end:
            return None
        ytd = self.aggregates(scope, year)
        months = [m for m in year.months() if m.start <= self.now.date()][-PROJECTION_WINDOW:]
        recent = combine(self.aggregates(scope, m) for m in months)
        start = datetime.combine(year.start, datetime.min.time(), VN_TZ)
        elapsed = (self.now - start) / timedelta(days=year.days)
        if not ytd.received or not recent.received or elapsed <= 0:
            return None
        projected = project_aggregates(ytd, recent, elapsed)
        result = self.index(scope, year, projected)
        return {
            "year": year.key,
            "index": _round(result.index),
            "elapsed": round(elapsed, 4),
            "indicative": True,
        }

    def scope_name(self, scope: Scope) -> str:
        if scope.kind == "province":
            return "Toàn tỉnh"
        assert scope.code is not None
        if scope.kind == "agency":
            try:
                return self.catalogue.agency(scope.code).name
            except LookupError:
                return scope.code
        return self.area_book.name(scope.code)

    # -- rankings and trends ------------------------------------------------------------------------------

    def ranking(self, kind: Literal["agency", "locality"], period: Period) -> list[dict[str, Any]]:
        if kind == "agency":
            codes = [s.partition(":")[2] for s in self.accumulator.scopes("agency:")]
        else:
            codes = list(self.localities(self.scheme(period)))
        rows: list[dict[str, Any]] = []
        for code in codes:
            scope = Scope(kind, code)
            found = self.aggregates(scope, period)
            if not found.in_scope:
                continue
            result = self.index(scope, period, found)
            rows.append(
                {
                    "code": code,
                    "name": self.scope_name(scope),
                    "index": _round(result.index),
                    "band": None if result.band is None else result.band.id,
                    "received": found.received,
                    "online_share": _round(found.online / found.received if found.received else None, 4),
                    "on_time_rate": _round(
                        found.timely / found.timeliness_total if found.timeliness_total else None, 4
                    ),
                    "late": found.late_total,
                    "trio": _trio(found),
                }
            )
        rows.sort(key=lambda r: (r["index"] is None, -float(r["index"] or 0), str(r["code"])))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        return rows

    def trends(self, scope: Scope, year: int) -> list[dict[str, Any]]:
        result = []
        for month in Period("year", year).months():
            if month.start > self.now.date():
                break
            found = self.aggregates(scope, month)
            scored = self.index(scope, month, found)
            result.append(
                {
                    "period": month.key,
                    "index": _round(scored.index),
                    "received": found.received,
                    "online_share": _round(found.online / found.received if found.received else None, 4),
                    "on_time_rate": _round(
                        found.timely / found.timeliness_total if found.timeliness_total else None, 4
                    ),
                }
            )
        return result


@lru_cache(maxsize=32)
def tier_stats(catalogue: Catalogue, tier: str) -> CatalogueStats:
    """Counts of a catalogue's procedures of one tier (a catalogue is replaced, never changed, so its
    counts can be kept)."""
    chosen = [
        p
        for p in catalogue.procedures
        if tier == "all" or (p.agency_level == "province") == (tier == "province")
    ]
    return Catalogue(chosen).stats()


def project_aggregates(ytd: Aggregates, recent: Aggregates, elapsed: float) -> Aggregates:
    """The year's counters at the current pace: the rest of the year receives dossiers at the year-to-date
    pace, with the mix of the recent months (the `targets.project_year_end` rule, applied to every flow)."""
    if elapsed >= 1 or not recent.received:
        return ytd
    remaining = ytd.received * (1 - elapsed) / elapsed
    scale = remaining / recent.received
    values = {}
    for item in fields(Aggregates):
        value = getattr(ytd, item.name)
        if item.name not in _STOCKS:
            value += round(getattr(recent, item.name) * scale)
        values[item.name] = value
    return Aggregates(**values)


def target_value(target: Target, found: Aggregates, stats: CatalogueStats) -> float | None:
    metric = DOSSIER_METRICS.get(target.metric)
    numerator, denominator = metric(found) if metric else CATALOGUE_METRICS[target.metric](stats)
    return numerator / denominator if denominator else None


def _trio(found: Aggregates) -> dict[str, float | None]:
    trio = service_trio(found)
    return {
        "digital_take_up": _round(trio.digital_take_up, 4),
        "completion_rate": _round(trio.completion_rate, 4),
        "user_satisfaction": _round(trio.user_satisfaction, 4),
    }


def _counts(found: Aggregates) -> dict[str, int]:
    walk_in = found.received - found.online - found.postal
    return {
        "received": found.received,
        "carried_over": found.carried_over,
        "walk_in": walk_in,
        "online": found.online,
        "postal": found.postal,
        "early": found.early,
        "on_time": found.on_time,
        "late": found.late,
        "within_time": found.within_time,
        "due_soon": found.due_soon,
        "overdue": found.overdue,
        "supplement": found.supplement_on_time + found.supplement_late,
        "stopped": found.stopped,
        "processed": found.processed,
        "withdrawn": found.withdrawn,
        "refused": found.refused,
    }


@cache
def _group_names() -> dict[str, dict[str, str]]:
    return {g.id: g.name.model_dump() for g in index_config().groups}


@cache
def _indicator_names() -> dict[str, dict[str, str]]:
    return {i.id: i.name.model_dump() for i in index_config().indicators}


@cache
def _thresholds() -> dict[str, float]:
    return {i.id: i.threshold for i in index_config().indicators}


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
