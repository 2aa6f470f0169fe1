"""Reading areas back: GeoJSON for the map, and the old→new mapping."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from cityops.core.schema import area_mappings, areas


def areas_geojson(conn: Connection, scheme: str, level: str) -> dict[str, Any]:
    links: dict[str, list[str]] = {}
    forward = scheme == "legacy"
    for old, new in conn.execute(select(area_mappings.c.old_code, area_mappings.c.new_code)):
        links.setdefault(old if forward else new, []).append(new if forward else old)
    features = []
    query = select(areas).where(areas.c.scheme == scheme, areas.c.level == level).order_by(areas.c.code)
    for row in conn.execute(query):
        properties: dict[str, Any] = {
            "code": row.code,
            "official_code": row.official_code,
            "name": row.name,
            "level": row.level,
            "scheme": row.scheme,
            "parent_code": row.parent_code,
            "approximate": row.approximate,
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            **row.properties,
        }
        if level == "ward":
            properties["successors" if forward else "predecessors"] = sorted(links.get(row.code, []))
        features.append(
            {"type": "Feature", "id": row.code, "geometry": row.geometry, "properties": properties}
        )
    return {"type": "FeatureCollection", "features": features}


def successor_of(conn: Connection, legacy_code: str) -> str | None:
    """The default 2025 unit a legacy ward became part of."""
    query = select(area_mappings.c.new_code).where(
        area_mappings.c.old_code == legacy_code, area_mappings.c.is_default.is_(True)
    )
    return conn.execute(query).scalar_one_or_none()
