"""`/api/traffic/cameras`: the camera registry over HTTP, each camera with its state and latest flow.

State: "up" or "down" from the newest `state` point a worker sent (1 or 0), "unknown" when there is
none or it is older than `STATE_FRESH_MS` (no worker watches the camera).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Body, HTTPException, Request, Response
from pydantic import BaseModel, ValidationError

from cityops.config import Settings
from cityops.core.access.accounts import Principal, Role
from cityops.core.entities import EntityError
from cityops.core.events import EntityUpserted
from cityops.core.kernel import Kernel
from cityops.core.observations import read_latest
from cityops.core.outbound import OutboundRefused
from cityops.core.text_limits import Key
from cityops.traffic.analytics.config import Analytics
from cityops.traffic.registry import (
    CAMERA_ID,
    CameraIn,
    CameraNotFound,
    CameraRow,
    check_stream_url,
    put_analytics,
    put_camera,
    read_camera,
    read_cameras,
    retire_camera,
)
from cityops.traffic.snapshots import SnapshotStore

STATE_FRESH_MS = 2 * 60_000
FLOW_METRICS = ("intensity", "occupancy", "averageVehicleSpeed", "congestionLevel", "queueVehicles")
FIELD_PREFIX = re.compile(
    r"^(?P<field>[A-Za-z_][A-Za-z0-9_.]*(?:, [A-Za-z_][A-Za-z0-9_.]*)*): (?P<msg>.+)$", re.S
)
M = TypeVar("M", bound=BaseModel)
# Validated by `validate` rather than by FastAPI, so cross-field errors name their field too.
JsonObject = Annotated[dict[str, Any], Body()]


def validate(model: type[M], raw: Any, prefix: tuple[str, ...] = ("body",)) -> M:
    """`raw` as `model`, or a 422 whose every error names its field (also for cross-field checks)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            loc = [*prefix, *(str(part) for part in error["loc"])]
            message = error["msg"].removeprefix("Value error, ")
            found = FIELD_PREFIX.match(message)
            if found:
                first = found["field"].split(", ")[0]
                loc = [*loc, *first.split(".")]
                message = f"{found['field']}: {found['msg']}" if ", " in found["field"] else found["msg"]
            errors.append({"loc": loc, "field": ".".join(loc[1:]) or "body", "msg": message})
        raise HTTPException(422, detail=errors) from None


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def sees_urls(principal: Principal) -> bool:
    return principal.role in (Role.ADMIN, Role.OPERATOR)


def checked_id(camera_id: str) -> str:
    if not CAMERA_ID.fullmatch(camera_id):
        raise HTTPException(
            422,
            detail=[
                {
                    "loc": ["path", "camera_id"],
                    "field": "camera_id",
                    "msg": "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                }
            ],
        )
    return camera_id


def not_found(camera_id: str) -> HTTPException:
    return HTTPException(404, detail={"code": "not_found", "msg": f"no camera {camera_id!r}"})


def cameras_router(kernel: Kernel, snapshots: SnapshotStore) -> APIRouter:
    router = APIRouter()
    names = kernel.registry.metric_names

    def describe(rows: list[CameraRow], show_url: bool) -> list[dict[str, Any]]:
        with kernel.engine.connect() as conn:
            newest = read_latest(conn)
        now = kernel.now_ms()
        described = []
        for row in rows:
            values = {names[m][1]: point for m, point in newest.get(row.entity_id, {}).items() if m in names}
            state_point = values.get("state")
            if state_point is None or now - state_point[0] > STATE_FRESH_MS:
                state = "unknown"
            else:
                state = "up" if state_point[1] >= 0.5 else "down"
            flow = {metric: values[metric][1] for metric in FLOW_METRICS if metric in values}
            counts = {
                metric.removeprefix("count."): point[1]
                for metric, point in values.items()
                if metric.startswith("count.")
            }
            stamps = [values[m][0] for m in (*FLOW_METRICS, *(f"count.{c}" for c in counts)) if m in values]
            latest = {**flow, "counts": counts, "ts": max(stamps)} if stamps else None
            snapshot = snapshots.get(row.camera_id)
            described.append(
                {
                    **row.public(show_url=show_url),
                    "state": state,
                    "latest_flow": latest,
                    # When the newest picture arrived (None: none yet), so the wall asks only for what exists.
                    "snapshot_ms": None if snapshot is None else snapshot.received_ms,
                }
            )
        return described

    def one(camera_id: str, show_url: bool) -> dict[str, Any]:
        with kernel.engine.connect() as conn:
            try:
                row = read_camera(conn, camera_id)
            except CameraNotFound:
                raise not_found(camera_id) from None
        return describe([row], show_url)[0]

    async def published(camera_id: str) -> None:
        ref = kernel.registry.resolve(f"urn:ngsi-ld:Camera:{camera_id}")
        if ref is None:
            return
        with kernel.engine.connect() as conn:
            found = read_cameras(conn, [camera_id])
        lon, lat, area = (found[0].lon, found[0].lat, found[0].area_code) if found else (None, None, None)
        await kernel.bus.publish(EntityUpserted(ref.urn, ref.type, ref.name, lon, lat, area))

    @router.get("/cameras", summary="Every camera with its state (up, down, unknown) and latest flow")
    async def list_cameras(request: Request) -> list[dict[str, Any]]:
        show = sees_urls(principal_of(request))

        def load() -> list[dict[str, Any]]:
            with kernel.engine.connect() as conn:
                rows = read_cameras(conn)
            return describe(rows, show)

        return await anyio.to_thread.run_sync(load)

    @router.get("/cameras/{camera_id}", summary="One camera with its analytics configuration")
    async def get_camera(request: Request, camera_id: Key) -> dict[str, Any]:
        show = sees_urls(principal_of(request))
        return await anyio.to_thread.run_sync(one, checked_id(camera_id), show)

    @router.put(
        "/cameras/{camera_id}",
        summary="Create or replace a camera (Smart Data Models Camera; admin, operator; audited)",
    )
    async def put(request: Request, camera_id: Key, body: JsonObject) -> dict[str, Any]:
        camera_id = checked_id(camera_id)
        camera = validate(CameraIn, body)
        actor = principal_of(request).actor
        if camera.streamURL is not None:
            settings: Settings = request.app.state.settings
            allow_local = settings.outbound_private_allowed
            try:  # in a thread: the host name is resolved
                await anyio.to_thread.run_sync(check_stream_url, camera.streamURL, allow_local)
            except OutboundRefused as exc:
                detail = [{"loc": ["body", "streamURL"], "field": "streamURL", "msg": str(exc)}]
                raise HTTPException(422, detail=detail) from None
        try:
            await anyio.to_thread.run_sync(put_camera, kernel.registry, camera_id, camera, actor)
        except EntityError as exc:
            detail = [{"loc": ["body", exc.field], "field": exc.field, "msg": exc.message}]
            raise HTTPException(422, detail=detail) from None
        await published(camera_id)
        return await anyio.to_thread.run_sync(one, camera_id, True)

    @router.put(
        "/cameras/{camera_id}/analytics",
        summary="Replace a camera's analytics configuration (image coordinates; admin, operator; audited)",
    )
    async def put_camera_analytics(request: Request, camera_id: Key, body: JsonObject) -> dict[str, Any]:
        camera_id = checked_id(camera_id)
        analytics = validate(Analytics, body)
        actor = principal_of(request).actor
        try:
            await anyio.to_thread.run_sync(put_analytics, kernel.engine, camera_id, analytics, actor)
        except CameraNotFound:
            raise not_found(camera_id) from None
        return await anyio.to_thread.run_sync(one, camera_id, True)

    @router.delete(
        "/cameras/{camera_id}",
        status_code=204,
        summary="Retire a camera: off the registry and the camera wall; its history stays (audited)",
    )
    async def delete_camera(request: Request, camera_id: Key) -> Response:
        camera_id = checked_id(camera_id)
        actor = principal_of(request).actor
        try:
            await anyio.to_thread.run_sync(retire_camera, kernel.registry, kernel.engine, camera_id, actor)
        except CameraNotFound:
            raise not_found(camera_id) from None
        await anyio.to_thread.run_sync(snapshots.forget, camera_id)
        await published(camera_id)
        return Response(status_code=204)

    return router
