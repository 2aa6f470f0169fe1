"""Areas as GeoJSON for the map."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shapely.geometry import shape
from sqlalchemy import Connection

from cityops.core.areas import areas_geojson

Rows = dict[str, dict[str, Any]]
ByLevel = dict[tuple[str, str], list[str]]
PROPERTIES = {"code", "official_code", "name", "level", "scheme", "parent_code", "approximate"}


@pytest.mark.parametrize(
    ("scheme", "level"),
    [
        ("legacy", "province"),
        ("legacy", "district"),
        ("legacy", "ward"),
        ("2025", "province"),
        ("2025", "ward"),
    ],
)
def test_one_feature_per_area_with_its_properties(
    conn: Connection, rows: Rows, by_level: ByLevel, scheme: str, level: str
) -> None:
    collection = areas_geojson(conn, scheme, level)
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert [f["properties"]["code"] for f in features] == by_level[scheme, level]
    for feature in features:
        properties = feature["properties"]
        row = rows[properties["code"]]
        assert properties.keys() >= PROPERTIES
        assert properties["approximate"] is True
        assert (properties["name"], properties["parent_code"]) == (row["name"], row["parent_code"])
        assert shape(feature["geometry"]).is_valid
        linked = properties["successors" if scheme == "legacy" else "predecessors"]
        assert linked and all(
            code.startswith("2025:" if scheme == "legacy" else "legacy:") for code in linked
        )
    json.dumps(collection, allow_nan=False)  # serialisable as it is


def test_links_between_the_schemes(conn: Connection, rows: Rows) -> None:
    legacy = {f["id"]: f["properties"] for f in areas_geojson(conn, "legacy", "ward")["features"]}
    new = {f["id"]: f["properties"] for f in areas_geojson(conn, "2025", "ward")["features"]}
    for code, properties in legacy.items():
        for successor in properties["successors"]:
            assert code in new[successor]["predecessors"]
    for code, properties in new.items():
        for predecessor in properties["predecessors"]:
            assert code in legacy[predecessor]["successors"]
    # A district lists the 2025 units its wards went into.
    districts = {f["id"]: f["properties"] for f in areas_geojson(conn, "legacy", "district")["features"]}
    wards_of_718 = [c for c, r in rows.items() if r["parent_code"] == "legacy:718"]
    assert set(districts["legacy:718"]["successors"]) == {
        s for w in wards_of_718 for s in legacy[w]["successors"]
    }


def test_unknown_scheme_or_level_is_refused(conn: Connection) -> None:
    with pytest.raises(ValueError, match="scheme"):
        areas_geojson(conn, "1999", "ward")
    with pytest.raises(ValueError, match="level"):
        areas_geojson(conn, "2025", "village")
