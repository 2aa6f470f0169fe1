"""Geo-queries (ETSI GS CIM 009 clause 4.10): `georel`, `geometry`, `coordinates` on the `location`
GeoProperty, evaluated with shapely; distances in metres on the WGS 84 ellipsoid's mean radius
(haversine), good to 0.5 % at the scale of a province."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from cityops.api.ngsild.errors import NgsiError, bad_data

EARTH_RADIUS_M = 6_371_008.8
GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
RELATIONS = ("near", "within", "contains", "intersects", "equals", "disjoint", "overlaps")
NEAR = re.compile(r"^near;(maxDistance|minDistance)(==)(\d+(\.\d+)?)$")


@dataclass(frozen=True, slots=True)
class GeoQuery:
    relation: str
    geometry: BaseGeometry
    max_distance: float | None = None
    min_distance: float | None = None

    def bounds(self) -> tuple[float, float, float, float] | None:
        """A lon/lat box every match lies in (for the SQL pre-filter); None when it cannot be bounded."""
        if self.relation == "disjoint" or self.min_distance is not None:
            return None
        west, south, east, north = self.geometry.bounds
        if self.max_distance is not None:
            pad_lat = math.degrees(self.max_distance / EARTH_RADIUS_M)
            cos = max(math.cos(math.radians(max(abs(south), abs(north)))), 1e-6)
            pad_lon = min(pad_lat / cos, 360.0)
            return west - pad_lon, south - pad_lat, east + pad_lon, north + pad_lat
        return west, south, east, north

    def matches(self, lon: float, lat: float) -> bool:
        point = Point(lon, lat)
        if self.relation == "near":
            distance = distance_m(self.geometry, lon, lat)
            if self.max_distance is not None:
                return distance <= self.max_distance
            assert self.min_distance is not None
            return distance >= self.min_distance
        if self.relation == "within":
            return bool(point.within(self.geometry))
        if self.relation == "contains":
            return bool(point.contains(self.geometry))
        if self.relation == "intersects":
            return bool(point.intersects(self.geometry))
        if self.relation == "equals":
            return bool(point.equals(self.geometry))
        if self.relation == "disjoint":
            return bool(point.disjoint(self.geometry))
        return bool(point.overlaps(self.geometry))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_m(geometry: BaseGeometry, lon: float, lat: float) -> float:
    """Distance from the point to the geometry: to its nearest point (0 inside a polygon)."""
    point = Point(lon, lat)
    if geometry.geom_type == "Point":
        return haversine_m(lon, lat, geometry.x, geometry.y)
    if geometry.covers(point):
        return 0.0
    nearest = nearest_points(geometry, point)[0]
    return haversine_m(lon, lat, nearest.x, nearest.y)


def parse_geoquery(
    georel: str | None, geometry: str | None, coordinates: str | None, geoproperty: str | None
) -> GeoQuery | None:
    if georel is None and geometry is None and coordinates is None:
        return None
    if georel is None or geometry is None or coordinates is None:
        raise bad_data("geoQ: georel, geometry and coordinates go together")
    if geoproperty not in (None, "location"):
        raise NgsiError("OperationNotSupported", "geoproperty: only 'location' can be queried")
    if geometry not in GEOMETRIES:
        raise bad_data(f"geometry: must be one of {list(GEOMETRIES)}")
    try:
        parsed: Any = orjson.loads(coordinates)
    except orjson.JSONDecodeError:
        raise bad_data("coordinates: must be a JSON array such as [106.65,10.98]") from None
    try:
        shaped = shape({"type": geometry, "coordinates": parsed})
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise bad_data(f"coordinates: not a valid {geometry}: {exc}") from None
    if shaped.is_empty or not shaped.is_valid:
        raise bad_data(f"coordinates: not a valid {geometry}")
    if georel.startswith("near"):
        match = NEAR.match(georel)
        if match is None:
            raise bad_data("georel: near needs ';maxDistance==<metres>' or ';minDistance==<metres>'")
        metres = float(match.group(3))
        if match.group(1) == "maxDistance":
            return GeoQuery("near", shaped, max_distance=metres)
        return GeoQuery("near", shaped, min_distance=metres)
    if georel not in RELATIONS:
        raise bad_data(f"georel: must be one of {list(RELATIONS)}")
    return GeoQuery(georel, shaped)
