"""What the map draws: areas and entities as GeoJSON, and entity registration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from cityops.api.auth import Reader, Writer
from cityops.api.state import kernel_of
from cityops.core import areas
from cityops.core.entities import EntityError
from cityops.core.kernel import Kernel
from cityops.core.observations import read_latest
from cityops.core.schema import entities

router = APIRouter(tags=["map"])


def iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@router.get("/api/areas", summary="Administrative areas as GeoJSON")
async def get_areas(
    request: Request,
    principal: Reader,
    scheme: Literal["2025", "legacy"] = "2025",
    level: Literal["province", "district", "ward"] = "ward",
) -> dict[str, Any]:
    kernel = kernel_of(request)

    def load() -> dict[str, Any]:
        with kernel.engine.connect() as conn:
            return areas.areas_geojson(conn, scheme, level)

    return await anyio.to_thread.run_sync(load)


def entities_geojson(kernel: Kernel, entity_type: str | None, area: str | None) -> dict[str, Any]:
    names = kernel.registry.metric_names
    query = select(entities)
    if entity_type:
        query = query.where(entities.c.type == entity_type)
    if area:
        query = query.where((entities.c.area_code == area) | (entities.c.legacy_area_code == area))
    with kernel.engine.connect() as conn:
        newest = read_latest(conn)
        rows = conn.execute(query.order_by(entities.c.id)).all()
    features = []
    for row in rows:
        values = newest.get(row.id, {})
        features.append(
            {
                "type": "Feature",
                "id": row.id,
                "geometry": None if row.lon is None else {"type": "Point", "coordinates": [row.lon, row.lat]},
                "properties": {
                    "urn": row.urn,
                    "type": row.type,
                    "name": row.name,
                    "area_code": row.area_code,
                    "legacy_area_code": row.legacy_area_code,
                    "attributes": row.attributes,
                    "latest": {
                        names[metric_id][1]: {"value": value, "ts": iso(ts)}
                        for metric_id, (ts, value) in values.items()
                    },
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@router.get("/api/entities", summary="Entities with their newest values, as GeoJSON")
async def get_entities(
    request: Request,
    principal: Reader,
    type: Annotated[str | None, Query(max_length=64)] = None,
    area: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    kernel = kernel_of(request)
    return await anyio.to_thread.run_sync(entities_geojson, kernel, type, area)


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: Annotated[list[float], Field(min_length=2, max_length=2)]


class EntityIn(BaseModel):
    id: Annotated[str, Field(max_length=200, description="urn:ngsi-ld:<Type>:<id>")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    location: PointGeometry | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


@router.post(
    "/api/entities",
    status_code=201,
    summary="Create or update an entity (audited; admins and operators: device tokens send only data points)",
)
async def post_entity(request: Request, principal: Writer, entity: EntityIn) -> dict[str, Any]:
    kernel = kernel_of(request)
    lon, lat = entity.location.coordinates if entity.location else (None, None)
    try:
        ref, area = await kernel.upsert_entity(
            entity.id, entity.name, lon, lat, entity.attributes, actor=principal.actor
        )
    except EntityError as exc:
        raise HTTPException(
            422, detail=[{"loc": ["body", exc.field], "field": exc.field, "msg": exc.message}]
        ) from None
    return {"id": ref.urn, "type": ref.type, "area_code": area}
