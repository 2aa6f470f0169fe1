"""Administrative areas taken from the registry packages: counts, names, mapping, shapes, lookup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape
from sqlalchemy import Connection, create_engine, func, select

from cityops.core.areas import AreaDataMissing, AreaIndex, areas_geojson, load_reference, successor_of
from cityops.core.areas.shapes import province_outline
from cityops.core.schema import area_mappings, areas, metadata

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


@pytest.fixture(scope="module")
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        load_reference(connection, NODE_MODULES)
    with engine.connect() as connection:
        yield connection


@pytest.fixture(scope="module")
def index(conn: Connection) -> AreaIndex:
    return AreaIndex.from_connection(conn)


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    query = select(areas.c.scheme, areas.c.level, func.count()).group_by(areas.c.scheme, areas.c.level)
    return {(s, lvl): n for s, lvl, n in conn.execute(query)}


def test_the_legacy_province_and_the_units_it_became(conn: Connection) -> None:
    found = counts(conn)
    assert found[("legacy", "province")] == 1
    assert found[("legacy", "district")] == 9
    assert found[("legacy", "ward")] == 91
    assert found[("2025", "province")] == 1
    assert found[("2025", "ward")] >= 30
    names = set(conn.execute(select(areas.c.name).where(areas.c.level != "ward")).scalars())
    assert {"Tỉnh Bình Dương", "Thành phố Thủ Dầu Một", "Huyện Dầu Tiếng", "Thành phố Hồ Chí Minh"} <= names


def test_every_legacy_ward_has_exactly_one_default_successor(conn: Connection) -> None:
    defaults = conn.execute(
        select(area_mappings.c.old_code, func.count())
        .where(area_mappings.c.is_default.is_(True))
        .group_by(area_mappings.c.old_code)
    ).all()
    assert len(defaults) == 91
    assert all(n == 1 for _, n in defaults)
    # Every 2025 unit stored came from at least one legacy ward.
    targets = set(conn.execute(select(area_mappings.c.new_code)).scalars())
    wards_2025 = set(
        conn.execute(select(areas.c.code).where(areas.c.scheme == "2025", areas.c.level == "ward")).scalars()
    )
    assert targets == wards_2025


def test_ward_centroid_locates_to_itself_and_its_successor(conn: Connection, index: AreaIndex) -> None:
    for code, lon, lat in conn.execute(
        select(areas.c.code, areas.c.lon, areas.c.lat).where(
            areas.c.scheme == "legacy", areas.c.level == "ward"
        )
    ):
        assert index.locate(lon, lat, "legacy") == code
    for code, lon, lat in conn.execute(
        select(areas.c.code, areas.c.lon, areas.c.lat).where(
            areas.c.scheme == "2025", areas.c.level == "ward"
        )
    ):
        assert index.locate(lon, lat, "2025") == code


def test_district_lookup_and_mapping_of_a_known_ward(conn: Connection, index: AreaIndex) -> None:
    hiep_thanh = conn.execute(select(areas).where(areas.c.name == "Phường Hiệp Thành")).one()
    assert hiep_thanh.parent_code == "legacy:718"
    assert index.locate(hiep_thanh.lon, hiep_thanh.lat, "legacy", "district") == "legacy:718"
    successor = successor_of(conn, hiep_thanh.code)
    assert successor is not None and successor.startswith("2025:")


def test_point_outside_the_province_has_no_area(index: AreaIndex) -> None:
    assert index.locate(105.85, 21.03) is None  # Hà Nội
    assert index.locate(105.85, 21.03, "legacy", "district") is None
    assert index.locate(106.66, 11.0, "1999") is None


def test_geojson_marks_shapes_approximate_and_links_schemes(conn: Connection) -> None:
    legacy = areas_geojson(conn, "legacy", "ward")
    assert len(legacy["features"]) == 91
    assert all(f["properties"]["approximate"] is True for f in legacy["features"])
    assert all(f["properties"]["successors"] for f in legacy["features"])
    new = areas_geojson(conn, "2025", "ward")
    assert all(f["properties"]["predecessors"] for f in new["features"])


def test_cells_tile_the_province_without_overlap(conn: Connection) -> None:
    for scheme in ("legacy", "2025"):
        cells = [shape(f["geometry"]) for f in areas_geojson(conn, scheme, "ward")["features"]]
        province = shape(areas_geojson(conn, scheme, "province")["features"][0]["geometry"])
        union = shapely.union_all(cells)
        assert abs(union.area - province.area) / province.area < 0.001
        overlap = sum(c.area for c in cells) - union.area
        assert overlap / province.area < 0.001


def test_load_is_idempotent(conn: Connection) -> None:
    before = counts(conn)
    assert load_reference(conn, NODE_MODULES) == 0
    assert counts(conn) == before


def test_missing_map_data_says_how_to_fix(tmp_path: Path) -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection, pytest.raises(AreaDataMissing, match="make setup"):
        load_reference(connection, tmp_path)


OUTLINE = province_outline(NODE_MODULES)
MIN_LON, MIN_LAT, MAX_LON, MAX_LAT = OUTLINE.bounds


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(MIN_LON, MAX_LON), st.floats(MIN_LAT, MAX_LAT))
def test_any_point_in_the_province_has_one_ward_in_each_scheme(
    index: AreaIndex, lon: float, lat: float
) -> None:
    inside = OUTLINE.contains(Point(lon, lat))
    for scheme in ("legacy", "2025"):
        code = index.locate(lon, lat, scheme)
        if inside:
            assert code is not None and code.startswith(f"{scheme}:")
    if inside:
        assert index.locate(lon, lat, "legacy", "district") is not None
