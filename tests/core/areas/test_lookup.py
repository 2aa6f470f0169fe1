"""Point → area lookup."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from cityops.core.areas import AreaIndex, successor_of

Rows = dict[str, dict[str, Any]]
ByLevel = dict[tuple[str, str], list[str]]
Shapes = dict[str, BaseGeometry]
HA_NOI = (105.85, 21.03)


def test_a_known_ward_centroid_locates_to_itself_and_its_successor(
    rows: Rows, index: AreaIndex, conn: Connection
) -> None:
    phu_cuong = rows["legacy:25747"]
    assert phu_cuong["name"] == "Phường Phú Cường"
    lon, lat = phu_cuong["lon"], phu_cuong["lat"]
    assert index.locate(lon, lat, "legacy") == "legacy:25747"
    assert index.locate(lon, lat, "legacy", "district") == phu_cuong["parent_code"] == "legacy:718"
    assert index.locate(lon, lat, "legacy", "province") == "legacy:74"
    assert index.locate(lon, lat) == successor_of(conn, "legacy:25747")
    assert index.locate(lon, lat, "2025", "province") == "2025:79"


def test_every_ward_centroid_locates_to_itself_and_to_its_default_successor(
    rows: Rows, by_level: ByLevel, index: AreaIndex, conn: Connection
) -> None:
    for code in by_level["legacy", "ward"]:
        lon, lat = rows[code]["lon"], rows[code]["lat"]
        assert index.locate(lon, lat, "legacy") == code
        assert index.locate(lon, lat, "2025") == successor_of(conn, code)
    for code in by_level["2025", "ward"]:
        assert index.locate(rows[code]["lon"], rows[code]["lat"], "2025") == code


@pytest.mark.parametrize(("scheme", "level"), [("legacy", "ward"), ("legacy", "district"), ("2025", "ward")])
def test_a_point_outside_the_province_has_no_area(index: AreaIndex, scheme: str, level: str) -> None:
    assert index.locate(*HA_NOI, scheme, level) is None


def test_a_scheme_or_level_without_areas_has_no_area(rows: Rows, index: AreaIndex) -> None:
    lon, lat = rows["legacy:25747"]["lon"], rows["legacy:25747"]["lat"]
    assert index.locate(lon, lat, "2025", "district") is None  # the 2025 reform removed districts
    assert index.locate(lon, lat, "1999") is None


Layer = tuple[list[str], np.ndarray, np.ndarray]  # codes, cells, their borders


@pytest.fixture(scope="module")
def layers(shapes: Shapes, by_level: ByLevel) -> dict[str, Layer]:
    found = {}
    for scheme in ("legacy", "2025"):
        codes = by_level[scheme, "ward"]
        cells = np.array([shapes[code] for code in codes])
        found[scheme] = (codes, cells, shapely.boundary(cells))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.floats(0, 1), st.floats(0, 1))
def test_any_point_in_the_province_is_in_exactly_one_ward_of_each_scheme(
    shapes: Shapes, layers: dict[str, Layer], index: AreaIndex, defaults: dict[str, str], x: float, y: float
) -> None:
    province = shapes["legacy:74"]
    min_lon, min_lat, max_lon, max_lat = province.bounds
    point = Point(min_lon + x * (max_lon - min_lon), min_lat + y * (max_lat - min_lat))
    assume(province.contains(point))
    located = {}
    for scheme, (codes, cells, borders) in layers.items():
        assume(shapely.distance(borders, point).min() > 1e-9)  # a point on a shared border is in two
        holding = [codes[i] for i in np.flatnonzero(shapely.contains(cells, point))]
        assert len(holding) == 1
        located[scheme] = index.locate(point.x, point.y, scheme)
        assert located[scheme] == holding[0]
    # The schemes agree with the official mapping: the 2025 ward is the legacy ward's default successor.
    assert located["2025"] == defaults[located["legacy"]]


def test_lookup_agrees_with_the_shapes_on_a_dense_grid(
    shapes: Shapes, by_level: ByLevel, index: AreaIndex
) -> None:
    province = shapes["legacy:74"]
    min_lon, min_lat, max_lon, max_lat = province.bounds
    steps = (np.arange(60) + 0.5) / 60
    lons, lats = np.meshgrid(min_lon + steps * (max_lon - min_lon), min_lat + steps * (max_lat - min_lat))
    grid = shapely.points(lons.ravel(), lats.ravel())
    for scheme in ("legacy", "2025"):
        codes = by_level[scheme, "ward"]
        tree = shapely.STRtree([shapes[c] for c in codes])
        for point in grid:
            hits = tree.query(point, predicate="contains_properly")
            expected = codes[int(hits[0])] if len(hits) else None
            if len(hits) or not province.intersects(point):
                assert index.locate(point.x, point.y, scheme) == expected
