"""Reading areas back: GeoJSON for the map, and the old→new mapping."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from cityops.core.schema import area_mappings, areas

SCHEMES = ("legacy", "2025")
LEVELS = ("province", "district", "ward")


def areas_geojson(conn: Connection, scheme: str, level: str) -> dict[str, Any]:
    """A FeatureCollection of one scheme's units at one level; legacy units list their `successors`,
    2025 units their `predecessors` (codes in the other scheme)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme: must be one of {SCHEMES}, not {scheme!r}")
    if level not in LEVELS:
        raise ValueError(f"level: must be one of {LEVELS}, not {level!r}")
    links = _links(conn, forward=scheme == "legacy")
    features = []
    query = select(areas).where(areas.c.scheme == scheme, areas.c.level == level).order_by(areas.c.code)
    for row in conn.execute(query):
        properties: dict[str, Any] = {
            **row.properties,
            "code": row.code,
            "official_code": row.official_code,
            "name": row.name,
            "level": row.level,
            "scheme": row.scheme,
            "parent_code": row.parent_code,
            "approximate": bool(row.approximate),
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "successors" if scheme == "legacy" else "predecessors": sorted(links.get(row.code, ())),
        }
        features.append(
            {"type": "Feature", "id": row.code, "geometry": row.geometry, "properties": properties}
        )
    return {"type": "FeatureCollection", "features": features}


def successor_of(conn: Connection, legacy_code: str) -> str | None:
    """The default 2025 unit a legacy unit became part of; None for a legacy district (abolished, no
    single successor) or an unknown code."""
    query = select(area_mappings.c.new_code).where(
        area_mappings.c.old_code == legacy_code, area_mappings.c.is_default.is_(True)
    )
    return conn.execute(query).scalar_one_or_none()


def _links(conn: Connection, forward: bool) -> dict[str, set[str]]:
    """Code -> linked codes in the other scheme. A legacy district, which the mapping does not name, links
    to whatever its wards link to."""
    links: dict[str, set[str]] = {}
    for old, new in conn.execute(select(area_mappings.c.old_code, area_mappings.c.new_code)):
        links.setdefault(old if forward else new, set()).add(new if forward else old)
    if forward:
        wards = select(areas.c.code, areas.c.parent_code).where(
            areas.c.scheme == "legacy", areas.c.level == "ward"
        )
        by_district: dict[str, set[str]] = {}
        for ward, district in conn.execute(wards):
            by_district.setdefault(district, set()).update(links.get(ward, ()))
        for district, codes in by_district.items():
            links.setdefault(district, codes)
    return links
