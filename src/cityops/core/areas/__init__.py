"""Administrative areas: the legacy Bình Dương tree (province, districts, wards), the 2025 units it became
part of, the official old→new mapping, approximate shapes, and point→area lookup."""

from cityops.core.areas.loader import load_reference
from cityops.core.areas.lookup import AreaIndex
from cityops.core.areas.queries import LEVELS, SCHEMES, areas_geojson, successor_of
from cityops.core.areas.reference import ReferenceDataError
from cityops.core.areas.shapes import AreaDataMissing

__all__ = [
    "LEVELS",
    "SCHEMES",
    "AreaDataMissing",
    "AreaIndex",
    "ReferenceDataError",
    "areas_geojson",
    "load_reference",
    "successor_of",
]
