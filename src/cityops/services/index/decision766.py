"""Decision 766/QĐ-TTg service index: indicator configuration (`index766.toml`) and scoring.

Each indicator reads one source — dossier counters (`Aggregates`), the procedure catalogue
(`CatalogueStats`) or citizens' feedback (`FeedbackStats`) — through a named formula, and scores
`max_points × min(1, value / threshold)`. An indicator whose source is not given, or whose denominator
is zero, is "not available": it scores nothing and its points leave the maximum. `index` is the score
scaled to 100 over the available points (equal to `points` when all are available); the rating band is
read from `index`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cityops.services.catalogue import CatalogueStats
from cityops.services.index.accumulator import Aggregates

DEFAULT_CONFIG = Path(__file__).with_name("index766.toml")
Source = Literal["dossiers", "catalogue", "feedback"]


@dataclass(frozen=True, slots=True)
class FeedbackStats:
    """Citizens' feedback on procedures (phản ánh, kiến nghị) for group 5."""

    within_competence: int = 0
    handled_on_time: int = 0  # within 15 working days
    answered: int = 0
    unsatisfied_recomplained_or_late: int = 0


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _procedure_satisfaction(a: Aggregates) -> float | None:
    """100 % − (late rate + rate of dossiers with a complaint or an 'unsatisfied' rating)."""
    if not a.timeliness_total and not a.received:
        return None
    late = ratio(a.late_total, a.timeliness_total) or 0.0
    complaints = ratio(a.complained, a.received) or 0.0
    return max(0.0, 1.0 - late - complaints)


DOSSIER_FORMULAS: dict[str, Callable[[Aggregates], float | None]] = {
    "synced_share": lambda a: ratio(a.synced, a.received),
    "on_time_rate": lambda a: ratio(a.timely, a.timeliness_total),
    "average_processing_days": lambda a: ratio(a.processing_seconds / 86_400, a.processed),
    "online_dossier_share": lambda a: ratio(a.online, a.received),
    "fee_paid_online_share": lambda a: ratio(a.paid_online, a.fee),
    "electronic_result_share": lambda a: ratio(a.electronic_result, a.processed),
    "digitised_share": lambda a: ratio(a.digitised, a.received),
    "reused_share": lambda a: ratio(a.reused, a.received),
    "national_store_share": lambda a: ratio(a.national_store, a.received),
    "vneid_share": lambda a: ratio(a.online_vneid, a.online),
    "procedure_satisfaction": _procedure_satisfaction,
}
CATALOGUE_FORMULAS: dict[str, Callable[[CatalogueStats], float | None]] = {
    "published_on_time_share": lambda c: ratio(c.published_on_time, c.procedures),
    "updated_on_time_share": lambda c: ratio(c.updated_on_time, c.procedures),
    "published_complete_share": lambda c: ratio(c.publication_complete, c.procedures),
    "online_procedure_share": lambda c: ratio(c.online, c.procedures),
    "online_payment_procedure_share": lambda c: ratio(c.fee_bearing_with_online_payment, c.fee_bearing),
}
FEEDBACK_FORMULAS: dict[str, Callable[[FeedbackStats], float | None]] = {
    "feedback_on_time_share": lambda f: ratio(f.handled_on_time, f.within_competence),
    "feedback_satisfaction": lambda f: ratio(f.answered - f.unsatisfied_recomplained_or_late, f.answered),
}
FORMULAS: dict[str, set[str]] = {
    "dossiers": set(DOSSIER_FORMULAS),
    "catalogue": set(CATALOGUE_FORMULAS),
    "feedback": set(FEEDBACK_FORMULAS),
}


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Names(_Config):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)


class GroupConfig(_Config):
    id: str
    number: int
    max_points: float = Field(gt=0)
    name: Names


class IndicatorConfig(_Config):
    id: str
    group: str
    source: Source
    formula: str
    max_points: float = Field(ge=0)
    threshold: float = Field(gt=0)
    effective_from: date
    effective_to: date | None = None
    verified: bool = False
    unit: Literal["share", "days"] = "share"
    name: Names

    @model_validator(mode="after")
    def _known_formula(self) -> Self:
        if self.formula not in FORMULAS[self.source]:
            known = ", ".join(sorted(FORMULAS[self.source]))
            raise ValueError(f"formula: {self.formula!r} is not a {self.source} formula ({known})")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError(
                f"effective_to: {self.effective_to} is not after effective_from {self.effective_from}"
            )
        return self

    def active_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


class BandConfig(_Config):
    id: str
    min: float = Field(ge=0, le=100)
    name: Names


class IndexConfig(_Config):
    groups: tuple[GroupConfig, ...] = Field(alias="group")
    indicators: tuple[IndicatorConfig, ...] = Field(alias="indicator")
    bands: tuple[BandConfig, ...] = Field(alias="band")

    @field_validator("bands")
    @classmethod
    def _bands_descend_to_zero(cls, bands: tuple[BandConfig, ...]) -> tuple[BandConfig, ...]:
        mins = [b.min for b in bands]
        if not bands or mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins) or mins[-1] != 0:
            raise ValueError(
                f"bands must be listed highest first with distinct minimums ending at 0, got {mins}"
            )
        return bands

    @model_validator(mode="after")
    def _points_add_up(self) -> Self:
        groups = {g.id: g for g in self.groups}
        if len(groups) != len(self.groups):
            raise ValueError("group: ids must be unique")
        if abs(sum(g.max_points for g in self.groups) - 100) > 1e-9:
            raise ValueError(
                f"group: maximum points add up to {sum(g.max_points for g in self.groups)}, not 100"
            )
        for indicator in self.indicators:
            if indicator.group not in groups:
                raise ValueError(f"indicator {indicator.id}: unknown group {indicator.group!r}")
        for day in sorted({i.effective_from for i in self.indicators}):
            ids = [i.id for i in self.active(day)]
            if len(set(ids)) != len(ids):
                raise ValueError(f"indicator: two versions of one id are effective on {day}")
            for group in self.groups:
                total = sum(i.max_points for i in self.active(day) if i.group == group.id)
                if abs(total - group.max_points) > 1e-9:
                    raise ValueError(
                        f"indicator: group {group.id} indicators add up to {total} points on {day}, "
                        f"not {group.max_points}"
                    )
        return self

    @classmethod
    def load(cls, path: Path = DEFAULT_CONFIG) -> IndexConfig:
        try:
            return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, ValidationError) as error:
            raise ValueError(f"{path}: {error}") from error

    def active(self, day: date) -> list[IndicatorConfig]:
        return [i for i in self.indicators if i.active_on(day)]

    def band(self, index: float) -> BandConfig:
        return next(b for b in self.bands if index >= b.min)


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    id: str
    group: str
    value: float | None
    points: float | None  # None: not available
    max_points: float


@dataclass(frozen=True, slots=True)
class GroupScore:
    id: str
    points: float
    available: float
    max_points: float


@dataclass(frozen=True, slots=True)
class IndexScore:
    indicators: tuple[IndicatorScore, ...]
    groups: tuple[GroupScore, ...]
    points: float
    available: float
    index: float | None
    band: BandConfig | None


def indicator_points(value: float | None, max_points: float, threshold: float) -> float | None:
    if value is None:
        return None
    return max_points * min(1.0, value / threshold)


def score(
    config: IndexConfig,
    on: date,
    *,
    dossiers: Aggregates | None = None,
    catalogue: CatalogueStats | None = None,
    feedback: FeedbackStats | None = None,
) -> IndexScore:
    """The index of one scope and period with the indicators effective on `on`."""
    scored = []
    for indicator in config.active(on):
        value = _value(indicator, dossiers, catalogue, feedback)
        points = indicator_points(value, indicator.max_points, indicator.threshold)
        scored.append(IndicatorScore(indicator.id, indicator.group, value, points, indicator.max_points))
    groups = []
    for group in config.groups:
        mine = [s for s in scored if s.group == group.id]
        points = sum(s.points for s in mine if s.points is not None)
        available = sum(s.max_points for s in mine if s.points is not None)
        groups.append(GroupScore(group.id, points, available, group.max_points))
    total = sum(g.points for g in groups)
    available = sum(g.available for g in groups)
    index = 100 * total / available if available else None
    return IndexScore(
        tuple(scored), tuple(groups), total, available, index, None if index is None else config.band(index)
    )


def _value(
    indicator: IndicatorConfig,
    dossiers: Aggregates | None,
    catalogue: CatalogueStats | None,
    feedback: FeedbackStats | None,
) -> float | None:
    if indicator.source == "dossiers":
        return None if dossiers is None else DOSSIER_FORMULAS[indicator.formula](dossiers)
    if indicator.source == "catalogue":
        return None if catalogue is None else CATALOGUE_FORMULAS[indicator.formula](catalogue)
    return None if feedback is None else FEEDBACK_FORMULAS[indicator.formula](feedback)
