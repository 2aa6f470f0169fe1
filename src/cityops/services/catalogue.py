"""The catalogue of administrative procedures (thủ tục hành chính) and of the agencies that handle them.

Online service levels follow Decree 42/2022/NĐ-CP: `full` (toàn trình) and `partial` (một phần); older
data uses levels 1–4, mapped 1–2 → none (information only), 3 → partial, 4 → full.

Agencies carry validity dates because of the 1 July 2025 reform (two tiers, province and commune):
district-level agencies end on that day at the latest. `valid_to` is the first day no longer valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from cityops.core.text_limits import Label, Prose
from cityops.services.timing.calendar import DurationUnit

REFORM_DATE = date(2025, 7, 1)
AgencyLevel = Literal["province", "district", "commune"]


class OnlineLevel(StrEnum):
    NONE = "none"  # information only (legacy levels 1 and 2)
    PARTIAL = "partial"  # một phần (legacy level 3)
    FULL = "full"  # toàn trình (legacy level 4)

    @property
    def legacy_level(self) -> int:
        return {OnlineLevel.NONE: 2, OnlineLevel.PARTIAL: 3, OnlineLevel.FULL: 4}[self]

    @property
    def is_online(self) -> bool:
        return self is not OnlineLevel.NONE


_LEGACY = {1: OnlineLevel.NONE, 2: OnlineLevel.NONE, 3: OnlineLevel.PARTIAL, 4: OnlineLevel.FULL}
_NAMES = {"một phần": OnlineLevel.PARTIAL, "toàn trình": OnlineLevel.FULL}


def parse_online_level(value: Any) -> Any:
    """Accepts 'partial'/'full'/'none', 'một phần'/'toàn trình', and legacy levels 1–4 (int or digit)."""
    if isinstance(value, bool):
        return value  # left for pydantic to refuse
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        level = int(value)
        if level not in _LEGACY:
            raise ValueError(f"legacy online level {level} is not 1, 2, 3 or 4")
        return _LEGACY[level]
    if isinstance(value, str):
        return _NAMES.get(value.strip().lower(), value)
    return value


OnlineLevelField = Annotated[OnlineLevel, BeforeValidator(parse_online_level)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]


class Procedure(BaseModel):
    """One administrative procedure (mã TTHC) with its legal duration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Prose = Field(min_length=1)
    field: Label = Field(min_length=1)  # lĩnh vực
    level: OnlineLevelField = OnlineLevel.NONE
    duration: float = Field(gt=0)
    duration_unit: DurationUnit
    agency_level: AgencyLevel
    fee_bearing: bool = False
    online_payment: bool = False
    on_national_portal: bool = False
    published_on_time: bool = True
    updated_on_time: bool = True
    publication_complete: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.duration_unit == "calendar_days" and self.duration != int(self.duration):
            raise ValueError(f"duration: {self.duration} calendar days is not a whole number of days")
        if self.online_payment and not self.fee_bearing:
            raise ValueError("online_payment: set on a procedure without fee (fee_bearing is false)")
        return self

    @property
    def legacy_level(self) -> int:
        return self.level.legacy_level


class Agency(BaseModel):
    """An agency that receives and handles dossiers, valid over [valid_from, valid_to)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code  # its electronic identifier (mã định danh điện tử)
    name: Label = Field(min_length=1)
    area_code: Code
    level: AgencyLevel
    valid_from: date | None = None
    valid_to: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError(f"valid_to: {self.valid_to} is not after valid_from {self.valid_from}")
        if self.level == "district" and (self.valid_to is None or self.valid_to > REFORM_DATE):
            raise ValueError(
                f"valid_to: district-level agencies ended on {REFORM_DATE} (two-tier reform); "
                f"got {self.valid_to or 'no end date'}"
            )
        return self

    def active_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


class UnknownProcedureError(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"procedure_code: {code!r} is not in the procedure catalogue")
        self.code = code


class UnknownAgencyError(LookupError):
    def __init__(self, code: str, day: date | None = None) -> None:
        when = f" on {day}" if day else ""
        super().__init__(f"agency_code: {code!r} is not a known agency{when}")
        self.code = code


@dataclass(frozen=True, slots=True)
class CatalogueStats:
    """Procedure counts behind the catalogue-based indicators (766 group 1 and 3, 2025 targets)."""

    procedures: int = 0
    published_on_time: int = 0
    updated_on_time: int = 0
    publication_complete: int = 0
    online: int = 0  # partial or full
    full: int = 0
    online_on_national_portal: int = 0
    fee_bearing: int = 0
    fee_bearing_with_online_payment: int = 0


class Catalogue:
    """Procedures by code; agencies by code, possibly several versions of one code over time."""

    def __init__(self, procedures: Iterable[Procedure] = (), agencies: Iterable[Agency] = ()) -> None:
        self._procedures: dict[str, Procedure] = {}
        for procedure in procedures:
            if procedure.code in self._procedures:
                raise ValueError(f"procedure code {procedure.code!r} is listed twice")
            self._procedures[procedure.code] = procedure
        self._agencies: dict[str, list[Agency]] = {}
        for agency in agencies:
            versions = self._agencies.setdefault(agency.code, [])
            for other in versions:
                if _overlap(agency, other):
                    raise ValueError(f"agency {agency.code!r} has two versions valid at the same time")
            versions.append(agency)

    @property
    def procedures(self) -> list[Procedure]:
        return list(self._procedures.values())

    def procedure(self, code: str) -> Procedure:
        try:
            return self._procedures[code]
        except KeyError:
            raise UnknownProcedureError(code) from None

    def agency(self, code: str, on: date | None = None) -> Agency:
        """The version of agency `code` valid on `on` (any version, the latest, when `on` is None)."""
        versions = self._agencies.get(code, [])
        if on is None and versions:
            return max(versions, key=lambda a: a.valid_from or date.min)
        for agency in versions:
            if on is not None and agency.active_on(on):
                return agency
        raise UnknownAgencyError(code, on)

    def agencies(self, on: date | None = None) -> list[Agency]:
        return [a for versions in self._agencies.values() for a in versions if on is None or a.active_on(on)]

    def stats(self) -> CatalogueStats:
        procedures = self._procedures.values()
        return CatalogueStats(
            procedures=len(self._procedures),
            published_on_time=sum(p.published_on_time for p in procedures),
            updated_on_time=sum(p.updated_on_time for p in procedures),
            publication_complete=sum(p.publication_complete for p in procedures),
            online=sum(p.level.is_online for p in procedures),
            full=sum(p.level is OnlineLevel.FULL for p in procedures),
            online_on_national_portal=sum(p.level.is_online and p.on_national_portal for p in procedures),
            fee_bearing=sum(p.fee_bearing for p in procedures),
            fee_bearing_with_online_payment=sum(p.fee_bearing and p.online_payment for p in procedures),
        )


def _overlap(a: Agency, b: Agency) -> bool:
    a_start, b_start = a.valid_from or date.min, b.valid_from or date.min
    a_end, b_end = a.valid_to or date.max, b.valid_to or date.max
    return a_start < b_end and b_start < a_end
