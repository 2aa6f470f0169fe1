"""The administrative areas as the services domain uses them: which code a dossier may carry on a given
day (the 1 July 2025 reform ended the districts and merged the wards), the old→new mapping applied to a
legacy ward code used after the reform, and the localities that rankings and the map compare.

Localities: before the reform the legacy districts (a district counts its own dossiers and its wards'),
from the reform on the 2025 communes/wards (a ward counts its own dossiers and those of the legacy wards
that became part of it by default). A period that straddles the reform is ranked by legacy district,
with each 2025 ward counted in the district most of its predecessor wards belonged to. Dossiers handled
at the legacy district level after the reform cannot be attributed to one ward: they count for the
province only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import Connection, select

from cityops.core.schema import area_mappings, areas
from cityops.services.catalogue import REFORM_DATE

Scheme = Literal["legacy", "2025"]


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    scheme: str
    level: str
    name: str
    parent: str | None
    valid_from: date | None
    valid_to: date | None  # last valid day (inclusive), as the kernel's table has it
    lon: float | None
    lat: float | None


class AreaRuleError(ValueError):
    pass


class AreaBook:
    def __init__(
        self, items: list[Area], successors: dict[str, str], predecessors: dict[str, list[str]]
    ) -> None:
        self.areas = {a.code: a for a in items}
        self.successors = successors  # legacy ward -> its default 2025 ward
        self.predecessors = predecessors  # 2025 ward -> legacy wards
        self._on_day: dict[tuple[str, int], str] = {}

    @classmethod
    def load(cls, conn: Connection) -> AreaBook:
        items = [
            Area(
                code=row.code,
                scheme=row.scheme,
                level=row.level,
                name=row.name,
                parent=row.parent_code,
                valid_from=date.fromisoformat(row.valid_from) if row.valid_from else None,
                valid_to=date.fromisoformat(row.valid_to) if row.valid_to else None,
                lon=row.lon,
                lat=row.lat,
            )
            for row in conn.execute(select(areas))
        ]
        successors: dict[str, str] = {}
        predecessors: dict[str, list[str]] = {}
        for old, new, default in conn.execute(
            select(area_mappings.c.old_code, area_mappings.c.new_code, area_mappings.c.is_default)
        ):
            predecessors.setdefault(new, []).append(old)
            if default:
                successors[old] = new
        return cls(items, successors, predecessors)

    def code_on(self, code: str, day_ordinal: int) -> str:
        """The area code a dossier of `day` carries: `code`, or the 2025 ward a legacy ward became part of
        when used after the reform. Raises `AreaRuleError` naming `area_code`."""
        key = (code, day_ordinal)
        found = self._on_day.get(key)
        if found is None:
            found = self._on_day[key] = self._code_on(code, date.fromordinal(day_ordinal))
        return found

    def _code_on(self, code: str, day: date) -> str:
        area = self.areas.get(code)
        if area is None:
            raise AreaRuleError(f"area_code: {code!r} is not a known area (e.g. 'legacy:718', '2025:25747')")
        if area.valid_from is not None and day < area.valid_from:
            raise AreaRuleError(
                f"area_code: {code} ({area.name}) exists from {area.valid_from}; the dossier is of {day}"
            )
        if area.valid_to is not None and day > area.valid_to:
            successor = self.successors.get(code)
            if successor is None:
                raise AreaRuleError(
                    f"area_code: {code} ({area.name}) ended on {area.valid_to} and has no single "
                    f"successor; the dossier is of {day}: use a 2025 unit"
                )
            return successor
        return code

    def scheme_for(self, start: date, end: date) -> Scheme:
        """Legacy districts for a period that starts before the reform, 2025 wards otherwise."""
        return "legacy" if start < REFORM_DATE else "2025"

    def localities(self, scheme: Scheme) -> dict[str, list[str]]:
        """Locality code -> the area codes whose dossiers it counts."""
        members: dict[str, list[str]] = {}
        if scheme == "legacy":
            for area in self.areas.values():
                if area.scheme == "legacy" and area.level == "district":
                    members.setdefault(area.code, []).append(area.code)
            for area in self.areas.values():
                if area.scheme == "legacy" and area.level == "ward" and area.parent in members:
                    members[area.parent].append(area.code)
            for ward, district in self._district_of_new_wards().items():
                members[district].append(ward)
        else:
            for area in self.areas.values():
                if area.scheme == "2025" and area.level == "ward":
                    members[area.code] = [area.code, *sorted(self._default_predecessors(area.code))]
        return members

    def _default_predecessors(self, new: str) -> list[str]:
        return [old for old in self.predecessors.get(new, []) if self.successors.get(old) == new]

    def _district_of_new_wards(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for new, olds in self.predecessors.items():
            districts = Counter(
                self.areas[old].parent for old in olds if old in self.areas and self.areas[old].parent
            )
            if districts:
                district = districts.most_common(1)[0][0]
                if district is not None and district in self.areas:
                    found[new] = district
        return found

    def name(self, code: str) -> str:
        area = self.areas.get(code)
        return area.name if area else code
