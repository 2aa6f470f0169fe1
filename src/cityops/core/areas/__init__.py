"""Administrative areas: the legacy Bình Dương tree, the 2025 units it became part of, the old→new
mapping, approximate shapes, and point→area lookup."""

from cityops.core.areas.loader import AreaDataMissing, load_reference
from cityops.core.areas.lookup import AreaIndex
from cityops.core.areas.queries import areas_geojson, successor_of

__all__ = ["AreaDataMissing", "AreaIndex", "areas_geojson", "load_reference", "successor_of"]
