"""The province's yearly targets (`targets.toml`), the GOV.UK-style service trio, and year-end projection.

Year-end projection at the current pace ("linear on cumulative counts"): the rest of the year receives
dossiers at the year-to-date average daily pace (the denominator grows linearly), and those dossiers
meet the metric at the rate of the most recent `window` months (the current, partial month included):

    remaining   = denominator_ytd × (1 − f) / f          f = elapsed fraction of the year
    year-end    = (numerator_ytd + recent_rate × remaining) / (denominator_ytd + remaining)

With a steady rate this equals the year-to-date rate; a recent improvement or slide bends it. Catalogue
targets are stocks, not flows: their projection is their current value.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cityops.services.catalogue import CatalogueStats
from cityops.services.index.accumulator import Aggregates, IndexAccumulator
from cityops.services.index.decision766 import Names, ratio
from cityops.services.timing.calendar import VN_TZ, local
from cityops.services.timing.periods import Period

DEFAULT_TARGETS = Path(__file__).with_name("targets.toml")
Ratio = tuple[float, float]  # (numerator, denominator)

DOSSIER_METRICS: dict[str, Callable[[Aggregates], Ratio]] = {
    "online_dossier_share": lambda a: (a.online, a.received),
    "satisfaction_share": lambda a: (a.satisfied, a.rated),
    "online_authenticated_share": lambda a: (a.online_vneid, a.online),
}
CATALOGUE_METRICS: dict[str, Callable[[CatalogueStats], Ratio]] = {
    "online_services_on_national_portal": lambda c: (c.online_on_national_portal, c.online),
}


class Target(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    year: int = Field(ge=2000, le=2100)
    metric: str
    minimum: float = Field(gt=0, le=1)
    name: Names

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        if metric not in DOSSIER_METRICS and metric not in CATALOGUE_METRICS:
            known = ", ".join(sorted([*DOSSIER_METRICS, *CATALOGUE_METRICS]))
            raise ValueError(f"{metric!r} is not a known metric ({known})")
        return metric


class _Targets(BaseModel):
    target: list[Target]


def load_targets(path: Path = DEFAULT_TARGETS) -> list[Target]:
    try:
        return _Targets.model_validate(tomllib.loads(path.read_text(encoding="utf-8"))).target
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise ValueError(f"{path}: {error}") from error


@dataclass(frozen=True, slots=True)
class TargetStatus:
    target: Target
    current: float | None
    projected: float | None

    @property
    def met(self) -> bool | None:
        return None if self.current is None else self.current >= self.target.minimum

    @property
    def on_track(self) -> bool | None:
        """Whether the year will end at or above the target at the current pace."""
        return None if self.projected is None else self.projected >= self.target.minimum


@dataclass(frozen=True, slots=True)
class ServiceTrio:
    """GOV.UK's performance trio for a service."""

    digital_take_up: float | None  # online dossiers / dossiers received
    completion_rate: (
        float | None
    )  # processed / every dossier that ended (processed, withdrawn, refused, stopped)
    user_satisfaction: float | None  # satisfied ratings / ratings


def service_trio(a: Aggregates) -> ServiceTrio:
    ended = a.processed + a.withdrawn + a.refused + a.stopped
    return ServiceTrio(ratio(a.online, a.received), ratio(a.processed, ended), ratio(a.satisfied, a.rated))


def project_year_end(months: Sequence[Ratio], as_of: datetime, window: int = 3) -> float | None:
    """Year-end value of a ratio from its monthly (numerator, denominator) pairs, January to the month of
    `as_of` (partial), by the method of the module docstring."""
    moment = local("as_of", as_of)
    if not 1 <= len(months) <= 12 or window < 1:
        raise ValueError(f"months: give 1–12 monthly pairs (got {len(months)}); window ≥ 1 (got {window})")
    year_start = datetime(moment.year, 1, 1, tzinfo=VN_TZ)
    year_end = datetime(moment.year + 1, 1, 1, tzinfo=VN_TZ)
    elapsed = (moment - year_start) / (year_end - year_start)
    numerator = sum(n for n, _ in months)
    denominator = sum(d for _, d in months)
    if not denominator or elapsed <= 0:
        return None
    if elapsed >= 1:
        return numerator / denominator
    recent = months[-window:]
    recent_rate = ratio(sum(n for n, _ in recent), sum(d for _, d in recent))
    if recent_rate is None:
        recent_rate = numerator / denominator
    remaining = denominator * (1 - elapsed) / elapsed
    return (numerator + recent_rate * remaining) / (denominator + remaining)


def targets_in_force(targets: Sequence[Target], year: int) -> list[Target]:
    """A target's `year` is the first year it applies to; it stays in force until a later target with
    the same id replaces it (a plan's minimums do not lapse on 1 January while the next plan is drafted)."""
    newest: dict[str, Target] = {}
    for target in targets:
        if target.year <= year and (target.id not in newest or target.year > newest[target.id].year):
            newest[target.id] = target
    return [target for target in targets if newest.get(target.id) is target]


def evaluate_targets(
    targets: Sequence[Target],
    *,
    year: int,
    year_aggregates: Aggregates,
    monthly: Sequence[Aggregates],
    catalogue: CatalogueStats | None,
    as_of: datetime,
) -> list[TargetStatus]:
    """Status of the targets in force in `year`: value now and projected at year end. `monthly` runs
    from January to the month of `as_of`."""
    statuses = []
    for target in targets_in_force(targets, year):
        if target.metric in DOSSIER_METRICS:
            metric = DOSSIER_METRICS[target.metric]
            current = ratio(*metric(year_aggregates))
            projected = project_year_end([metric(m) for m in monthly], as_of) if monthly else None
        else:
            current = None if catalogue is None else ratio(*CATALOGUE_METRICS[target.metric](catalogue))
            projected = current
        statuses.append(TargetStatus(target, current, projected))
    return statuses


def monthly_aggregates(accumulator: IndexAccumulator, scope: str, year: int) -> list[Aggregates]:
    """January to the accumulator's current month (or December) of `year`, for one scope."""
    if "month" not in accumulator.kinds:
        raise ValueError("accumulator: keeps no months; build it with kinds including 'month'")
    clock = accumulator.clock
    last = 12 if clock.year > year else clock.month if clock.year == year else 0
    return [accumulator.aggregates(scope, Period("month", year * 12 + m)) for m in range(last)]
