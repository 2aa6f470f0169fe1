"""Alert rule definitions: the five kinds, their validation, domain templates and the configuration file.

A rule watches one metric of one entity type (optionally narrowed to one entity or one area) or one
indicator, and raises an alert following the Smart Data Models `Alert` (severity, category, subCategory).
The same pydantic models validate the configuration file and the API, so both name the faulty field.
"""

from __future__ import annotations

import json
import operator
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from cityops.core.domain import LANGUAGES, Text

Severity = Literal["informational", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("informational", "low", "medium", "high", "critical")
# Smart Data Models Alert categories, plus two of ours for what the model has no word for: devices and
# networks going down ("infrastructure") and public services/indicators ("publicService").
Category = Literal[
    "traffic",
    "naturalDisaster",
    "weather",
    "environment",
    "health",
    "security",
    "agriculture",
    "infrastructure",
    "publicService",
]
SDM_SUB_CATEGORIES = frozenset(
    [
        "trafficJam",
        "carAccident",
        "carWrongDirection",
        "carStopped",
        "pothole",
        "roadClosed",
        "roadWorks",
        "hazardOnRoad",
        "injuredBiker",
        "pedestrianOnRoad",
        "bikerOnRoad",
        "tramApproaching",
        "crowdRisk",
        "flood",
        "tsunami",
        "coastalEvent",
        "earthquake",
        "rainfall",
        "highTemperature",
        "lowTemperature",
        "lowHumidity",
        "highHumidity",
        "highAtmosphericPressure",
        "heatWave",
        "coldWave",
        "ice",
        "snow",
        "wind",
        "fog",
        "tornado",
        "tropicalCyclone",
        "hurricane",
        "snow/ice",
        "badSeaState",
        "thunderstorms",
        "fireRisk",
        "avalancheRisk",
        "floodRisk",
        "airPollution",
        "waterPollution",
        "pollenConcentration",
        "asthmaAttack",
        "bumpedPatient",
        "fallenPatient",
        "heartAttack",
        "suspiciousAction",
        "robbery",
        "assault",
        "civilDisorder",
        "buildingFire",
        "forestFire",
        "noxiousWeed",
        "snail",
        "insect",
        "rodent",
        "bacteria",
        "microbe",
        "fungus",
        "mite",
        "virus",
        "nematodes",
        "irrigation",
        "fertilisation",
    ]
)
PROJECT_SUB_CATEGORIES = frozenset(
    ("deviceOffline", "dataMissing", "indicatorOffTarget", "dossierOverdue", "networkOverload")
)
SUB_CATEGORIES = SDM_SUB_CATEGORIES | PROJECT_SUB_CATEGORIES

Op = Literal[">", ">=", "<", "<="]
Kind = Literal["threshold", "duration", "absence", "rate_of_change", "indicator_off_target"]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$", description="lower-case slug")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Minutes = Annotated[float, Field(gt=0, le=7 * 24 * 60, allow_inf_nan=False)]
MINUTE_MS = 60_000


OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def compare(op: Op, left: float, right: float) -> bool:
    return OPERATORS[op](left, right)


class _RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId
    title: Text = Field(description="language -> text; 'vi' is required, a plain string is taken as 'vi'")
    severity: Severity = "medium"
    category: Category
    sub_category: str | None = Field(default=None, description="Smart Data Models Alert subCategory")
    enabled: bool = True
    opens_incident: bool = Field(default=False, description="raising an alert opens (or joins) an incident")

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        return {"vi": value} if isinstance(value, str) else value

    @field_validator("title")
    @classmethod
    def _title_languages(cls, value: Text) -> Text:
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language(s) {unknown}; use {list(LANGUAGES)}")
        if not value.get("vi", "").strip():
            raise ValueError("needs a Vietnamese text under 'vi'")
        if any(len(text) > 200 for text in value.values()):
            raise ValueError("at most 200 characters per language")
        return value

    @field_validator("sub_category")
    @classmethod
    def _sub_category(cls, value: str | None) -> str | None:
        if value is not None and value not in SUB_CATEGORIES:
            raise ValueError(
                f"unknown subCategory {value!r} (Smart Data Models Alert; see docs/operations.md)"
            )
        return value


class _ScopedRule(_RuleBase):
    entity_type: Annotated[str, Field(min_length=1, max_length=64)]
    entity: Annotated[str | None, Field(max_length=200, description="one entity's URN")] = None
    area: Annotated[str | None, Field(max_length=32, description="area code; its sub-areas count")] = None


class ThresholdRule(_ScopedRule):
    kind: Literal["threshold"]
    metric: Annotated[str, Field(min_length=1, max_length=64)]
    op: Op
    value: Finite


class DurationRule(_ScopedRule):
    """The condition holds, batch after batch, for at least `minutes` of data time."""

    kind: Literal["duration"]
    metric: Annotated[str, Field(min_length=1, max_length=64)]
    op: Op
    value: Finite
    minutes: Minutes


class AbsenceRule(_ScopedRule):
    """No data (of `metric`, or of any metric when it is unset) received for `minutes`."""

    kind: Literal["absence"]
    metric: Annotated[str | None, Field(max_length=64)] = None
    minutes: Minutes


class RateOfChangeRule(_ScopedRule):
    """(newest - oldest value within the last `window_minutes`) per minute, compared with `value`."""

    kind: Literal["rate_of_change"]
    metric: Annotated[str, Field(min_length=1, max_length=64)]
    op: Op
    value: Finite = Field(description="units per minute")
    window_minutes: Minutes


class IndicatorRule(_RuleBase):
    """An indicator's status against its target is `bad` (or, with status 'warn', `warn` or worse)."""

    kind: Literal["indicator_off_target"]
    indicator: Annotated[str, Field(min_length=1, max_length=100)]
    status: Literal["warn", "bad"] = "bad"


ObservationRule = ThresholdRule | DurationRule | AbsenceRule | RateOfChangeRule
Rule = Annotated[
    ThresholdRule | DurationRule | AbsenceRule | RateOfChangeRule | IndicatorRule, Field(discriminator="kind")
]
RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)
RULE_LIST_ADAPTER: TypeAdapter[list[Rule]] = TypeAdapter(list[Rule])


@dataclass(frozen=True)
class RuleTemplate:
    """A rule a domain ships half-filled: `defaults` is a partial rule definition (without `id`)."""

    id: str
    title: Text
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleFieldError:
    field: str
    message: str

    def to_dict(self, prefix: tuple[str | int, ...] = ("body",)) -> dict[str, Any]:
        loc = [*prefix, *(int(p) if p.isdigit() else p for p in self.field.split("."))]
        return {"loc": loc, "field": self.field, "msg": self.message}


class RuleError(ValueError):
    """A rule is malformed or names something unknown; every problem names its field."""

    def __init__(self, errors: list[RuleFieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def _field_errors(exc: ValidationError) -> list[RuleFieldError]:
    kinds = set(get_args(Kind))
    errors = []
    for error in exc.errors():
        # A discriminated union puts the chosen kind first in the location: it is not a field.
        loc = [str(part) for part in error["loc"] if str(part) not in kinds]
        if error["type"] == "union_tag_invalid" or error["type"] == "union_tag_not_found":
            loc = [*loc, "kind"]
            message = f"must be one of {sorted(kinds)}"
        else:
            message = error["msg"]
        errors.append(RuleFieldError(".".join(loc) or "body", message))
    return errors


def parse_rule(raw: Any, templates: dict[str, RuleTemplate] | None = None) -> Rule:
    """Validate one rule definition. `template` picks a domain template whose defaults the definition
    overrides; a missing `id` is generated."""
    if not isinstance(raw, dict):
        raise RuleError([RuleFieldError("body", "must be a JSON object")])
    definition = dict(raw)
    template_id = definition.pop("template", None)
    if template_id is not None:
        template = (templates or {}).get(template_id) if isinstance(template_id, str) else None
        if template is None:
            known = sorted(templates or {})
            raise RuleError([RuleFieldError("template", f"unknown template {template_id!r}; known: {known}")])
        definition = {"title": template.title, **template.defaults, **definition}
    definition.setdefault("id", f"rule-{uuid.uuid4().hex[:10]}")
    try:
        return RULE_ADAPTER.validate_python(definition)
    except ValidationError as exc:
        raise RuleError(_field_errors(exc)) from None


def load_rules_file(path: Path, templates: dict[str, RuleTemplate] | None = None) -> list[Rule]:
    """Rules from a TOML file (`[[rules]]` tables) or a JSON file (a list, or `{"rules": [...]}`)."""
    try:
        text = path.read_text(encoding="utf-8")
        document: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RuleError([RuleFieldError("file", f"{path}: cannot be read: {exc}")]) from None
    raw = document.get("rules", []) if isinstance(document, dict) else document
    if not isinstance(raw, list):
        raise RuleError([RuleFieldError("rules", f"{path}: must be a list of rules")])
    rules: list[Rule] = []
    errors: list[RuleFieldError] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(raw):
        if isinstance(item, dict) and "id" not in item:
            errors.append(RuleFieldError(f"rules.{index}.id", "is required in a configuration file"))
            continue
        try:
            rule = parse_rule(item, templates)
        except RuleError as exc:
            errors.extend(RuleFieldError(f"rules.{index}.{e.field}", e.message) for e in exc.errors)
            continue
        if rule.id in first_index:
            message = f"{rule.id!r} is already defined by rules.{first_index[rule.id]}"
            errors.append(RuleFieldError(f"rules.{index}.id", message))
            continue
        first_index[rule.id] = index
        rules.append(rule)
    if errors:
        raise RuleError([RuleFieldError(e.field, f"{path.name}: {e.message}") for e in errors])
    return rules


class RuleSettings(BaseModel):
    """`[rules]` in cityops.toml."""

    model_config = ConfigDict(extra="forbid")

    file: Path | None = Field(default=None, description="TOML or JSON file of rules loaded at start-up.")
    tick_seconds: float = Field(default=5.0, gt=0, le=300, description="How often silence is checked.")
    indicator_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="How often indicator rules are evaluated."
    )
