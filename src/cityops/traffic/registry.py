"""The camera registry: Smart Data Models `Camera` entities in the kernel, plus the stream URL and the
analytics configuration kept in the traffic domain's own table.

A write changes the entity, the traffic row and the audit log in one transaction (the entity registry's
`on_write` hook). Audit entries carry the stream URL redacted. Deleting retires a camera: its row goes,
the entity stays (its observations and alerts keep their history) marked `retired`, off the registry.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Engine, delete, insert, select, update

from cityops.core import audit
from cityops.core.entities import EntityRegistry, make_urn
from cityops.core.outbound import PinnedUrl, Resolver, check_outbound_url, pin_outbound_url, system_resolver
from cityops.core.schema import entities
from cityops.core.store import write_transaction
from cityops.traffic.analytics.config import Analytics
from cityops.traffic.schema import traffic_cameras
from cityops.traffic.video.sources import redact

CAMERA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
LOCAL_SCHEMES = ("file",)  # only where the installation allows local targets


def check_stream_url(url: str, allow_local: bool) -> None:
    """Raise `OutboundRefused` unless a camera's stream may be `url`: the kernel's outbound check
    (`core.outbound`, host names resolved) with cameras' private networks (10.x, 172.16–31.x, 192.168.x,
    fc00::/7) always allowed; this machine, link-local addresses and `file:` paths only where the
    installation allows local targets (`outbound_private_allowed`); the metadata address never."""
    if allow_local and urlsplit(url).scheme.lower() in LOCAL_SCHEMES:
        return
    check_outbound_url(url, STREAM_SCHEMES, allow_local, private_networks=True)


def pin_stream_url(url: str, allow_local: bool, resolver: Resolver = system_resolver) -> PinnedUrl:
    """`check_stream_url` at connection time, resolving once: the URL with the checked address in place
    of its name, which the worker opens (see `core.outbound.pin_outbound_url`)."""
    return pin_outbound_url(url, STREAM_SCHEMES, allow_local, private_networks=True, resolver=resolver)


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"]
    coordinates: Annotated[
        list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=2)
    ]


class CameraIn(BaseModel):
    """`PUT /api/traffic/cameras/{id}`: Smart Data Models `Camera` (the kernel computes the area)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    streamURL: Annotated[str | None, Field(max_length=2000)] = None
    location: Point | None = None
    cameraOrientation: Annotated[str | None, Field(max_length=64)] = None
    cameraType: Literal["FIXED", "PTZ", "DOME", "DAY/NIGHT", "C-MOUNT", "BULLET"] | None = None
    cameraUsage: Literal["SURVEILLANCE", "RLVD", "ANPR/LPR", "TRAFFIC"] = "TRAFFIC"
    analytics: Analytics | None = None

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("streamURL")
    @classmethod
    def _stream(cls, value: str | None) -> str | None:
        # Where it points is checked by `check_stream_url`, which needs the installation's setting.
        if value is None:
            return None
        value = value.strip()
        if any(ord(c) < 32 for c in value):
            raise ValueError("must not contain control characters")
        return value


class CameraNotFound(LookupError):
    pass


@dataclass(frozen=True)
class CameraRow:
    camera_id: str
    urn: str
    name: str
    lon: float | None
    lat: float | None
    area_code: str | None
    legacy_area_code: str | None
    attributes: dict[str, Any]
    stream_url: str | None
    analytics: dict[str, Any] | None
    entity_id: int

    def public(self, *, show_url: bool) -> dict[str, Any]:
        """The camera as the API shows it: the URL only to those allowed, and never its password."""
        shown = {key: value for key, value in self.attributes.items() if key not in ("retired", "streamURL")}
        return {
            "id": self.camera_id,
            "urn": self.urn,
            "type": "Camera",
            "name": self.name,
            "location": None if self.lon is None else {"type": "Point", "coordinates": [self.lon, self.lat]},
            "area_code": self.area_code,
            "legacy_area_code": self.legacy_area_code,
            **shown,
            "streamURL": redact(self.stream_url) if show_url and self.stream_url else None,
            "analytics": self.analytics,
        }


def _audit_view(camera_id: str, stream_url: str | None, analytics: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "camera": camera_id,
        "streamURL": redact(stream_url) if stream_url else None,
        "analytics": analytics,
    }


def read_cameras(conn: Connection, camera_ids: list[str] | None = None) -> list[CameraRow]:
    """Camera entities that are not retired (sample cameras too), with their traffic row if any."""
    query = (
        select(entities, traffic_cameras.c.stream_url, traffic_cameras.c.analytics)
        .select_from(
            entities.outerjoin(
                traffic_cameras,
                entities.c.urn == ("urn:ngsi-ld:Camera:" + traffic_cameras.c.camera_id),
            )
        )
        .where(entities.c.type == "Camera")
        .order_by(entities.c.urn)
    )
    if camera_ids is not None:
        query = query.where(entities.c.urn.in_([make_urn("Camera", c) for c in camera_ids]))
    rows = []
    for row in conn.execute(query):
        attributes = dict(row.attributes or {})
        if attributes.get("retired"):
            continue
        rows.append(
            CameraRow(
                camera_id=row.urn.removeprefix("urn:ngsi-ld:Camera:"),
                urn=row.urn,
                name=row.name,
                lon=row.lon,
                lat=row.lat,
                area_code=row.area_code,
                legacy_area_code=row.legacy_area_code,
                attributes=attributes,
                stream_url=row.stream_url,
                analytics=row.analytics,
                entity_id=row.id,
            )
        )
    return rows


def read_camera(conn: Connection, camera_id: str) -> CameraRow:
    found = read_cameras(conn, [camera_id])
    if not found:
        raise CameraNotFound(camera_id)
    return found[0]


def put_camera(registry: EntityRegistry, camera_id: str, camera: CameraIn, actor: str) -> str | None:
    """Create or replace a camera (entity, stream URL, analytics) in one audited transaction; returns the
    area code the kernel located it in."""
    urn = make_urn("Camera", camera_id)
    lon, lat = camera.location.coordinates if camera.location else (None, None)
    attributes: dict[str, Any] = {"cameraUsage": camera.cameraUsage, "streamURL": None}
    if camera.cameraOrientation is not None:
        attributes["cameraOrientation"] = camera.cameraOrientation
    if camera.cameraType is not None:
        attributes["cameraType"] = camera.cameraType
    analytics = camera.analytics.model_dump(mode="json", by_alias=True) if camera.analytics else None

    def write(conn: Connection, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        audit.record(
            conn,
            actor,
            "entity.create" if before is None else "entity.update",
            f"entity:{urn}",
            before,
            after,
        )
        old = conn.execute(select(traffic_cameras).where(traffic_cameras.c.camera_id == camera_id)).first()
        values = {
            "stream_url": camera.streamURL,
            "analytics": analytics,
            "updated_ms": int(time.time() * 1000),
            "updated_by": actor[:100],
        }
        if old is None:
            conn.execute(insert(traffic_cameras).values(camera_id=camera_id, **values))
        else:
            conn.execute(
                update(traffic_cameras).where(traffic_cameras.c.camera_id == camera_id).values(**values)
            )
        audit.record(
            conn,
            actor,
            "camera.create" if old is None else "camera.update",
            f"camera:{camera_id}",
            None if old is None else _audit_view(camera_id, old.stream_url, old.analytics),
            _audit_view(camera_id, camera.streamURL, analytics),
        )

    _, area = registry.upsert(urn, camera.name, lon, lat, attributes, write)
    return area


def put_analytics(engine: Engine, camera_id: str, analytics: Analytics, actor: str) -> None:
    """Replace a camera's analytics configuration (the camera must exist)."""
    config = analytics.model_dump(mode="json", by_alias=True)
    with write_transaction(engine) as conn:
        camera = read_camera(conn, camera_id)
        old = conn.execute(select(traffic_cameras).where(traffic_cameras.c.camera_id == camera_id)).first()
        values = {"analytics": config, "updated_ms": int(time.time() * 1000), "updated_by": actor[:100]}
        if old is None:
            conn.execute(insert(traffic_cameras).values(camera_id=camera_id, stream_url=None, **values))
        else:
            conn.execute(
                update(traffic_cameras).where(traffic_cameras.c.camera_id == camera_id).values(**values)
            )
        audit.record(
            conn,
            actor,
            "camera.analytics",
            f"camera:{camera_id}",
            {"analytics": camera.analytics},
            {"analytics": config},
        )


def retire_camera(registry: EntityRegistry, engine: Engine, camera_id: str, actor: str) -> None:
    """Take a camera off the registry: its stream URL and analytics go, its entity is marked retired."""
    with engine.connect() as conn:
        camera = read_camera(conn, camera_id)

    def write(conn: Connection, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        audit.record(conn, actor, "entity.update", f"entity:{camera.urn}", before, after)
        conn.execute(delete(traffic_cameras).where(traffic_cameras.c.camera_id == camera_id))
        audit.record(
            conn,
            actor,
            "camera.delete",
            f"camera:{camera_id}",
            _audit_view(camera_id, camera.stream_url, camera.analytics),
            None,
        )

    attributes = {**camera.attributes, "retired": True}
    registry.upsert(camera.urn, camera.name, camera.lon, camera.lat, attributes, write)
