"""Point → area lookup: one shapely STRtree per (scheme, level), over prepared geometries."""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, select

from cityops.core.schema import areas


@dataclass(frozen=True)
class _Layer:
    codes: list[str]  # sorted, so that the lowest index is the lowest code
    tree: STRtree


class AreaIndex:
    def __init__(self, layers: dict[tuple[str, str], _Layer]) -> None:
        self._layers = layers

    @classmethod
    def from_connection(cls, conn: Connection) -> AreaIndex:
        grouped: dict[tuple[str, str], list[tuple[str, BaseGeometry]]] = {}
        query = select(areas.c.code, areas.c.scheme, areas.c.level, areas.c.geometry).order_by(areas.c.code)
        for code, scheme, level, geometry in conn.execute(query):
            if geometry is not None:
                grouped.setdefault((scheme, level), []).append((code, shape(geometry)))
        layers = {}
        for key, members in grouped.items():
            geometries = [g for _, g in members]
            shapely.prepare(geometries)
            layers[key] = _Layer([c for c, _ in members], STRtree(geometries))
        return cls(layers)

    def locate(self, lon: float, lat: float, scheme: str = "2025", level: str = "ward") -> str | None:
        """The code of the area holding the point, or None outside every area (or for a scheme and level
        with no areas). A point on a shared border goes to the lower code."""
        layer = self._layers.get((scheme, level))
        if layer is None:
            return None
        hits = layer.tree.query(Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return layer.codes[int(hits.min())]
