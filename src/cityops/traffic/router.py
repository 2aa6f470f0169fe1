"""The traffic API under `/api/traffic`: the camera registry and the camera wall's snapshots.

Reading is for every signed-in person; changing the registry is for admins and operators; a worker's
device token may post snapshots (the domain's `device_paths`). Stream URLs are shown to admins and
operators only, and never with their password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import make_url
from starlette.datastructures import UploadFile

from cityops.core.entities import make_urn
from cityops.core.kernel import Kernel
from cityops.core.text_limits import Key
from cityops.traffic.cameras_api import cameras_router
from cityops.traffic.registry import CAMERA_ID, read_cameras
from cityops.traffic.snapshots import (
    MAX_IMAGE_BYTES,
    MAX_OVERLAY_BYTES,
    SnapshotError,
    SnapshotStore,
    check_jpeg,
    parse_overlay,
)

SNAPSHOT_PATH = "/cameras/{camera_id}/snapshot"


def snapshot_folder(kernel: Kernel) -> Path:
    """Beside the SQLite file (`var/traffic-snapshots` for the default store), else under `var/`, one
    folder per database server and name (two stores never share pictures)."""
    url = make_url(str(kernel.engine.url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "traffic-snapshots"
    if url.get_backend_name() == "sqlite":
        return Path("var") / "traffic-snapshots"
    return Path("var") / "traffic-snapshots" / f"{url.host or 'local'}-{url.port or 5432}-{url.database}"


_STORES: dict[Path, SnapshotStore] = {}


def snapshot_store(kernel: Kernel) -> SnapshotStore:
    """One store per snapshot folder, shared by this router and the demo's simulator: the store keeps
    the latest pictures in memory, so a second one on the same folder would not be seen here."""
    folder = snapshot_folder(kernel).resolve()
    if folder not in _STORES:
        _STORES[folder] = SnapshotStore(folder)
    return _STORES[folder]


def _failure(exc: SnapshotError) -> JSONResponse:
    detail = [{"loc": ["body", *exc.field.split(".")], "field": exc.field, "msg": exc.message}]
    return JSONResponse({"detail": detail}, status_code=exc.status)


def _not_found(camera_id: str) -> HTTPException:
    return HTTPException(404, detail={"code": "not_found", "msg": f"no camera {camera_id!r}"})


async def _part(form: Any, name: str, limit: int) -> bytes:
    item = form.get(name)
    if item is None:
        raise SnapshotError(422, name, "is missing (multipart/form-data part)")
    if isinstance(item, str):
        data = item.encode()
    elif isinstance(item, UploadFile):
        data = await item.read(limit + 1)
    else:
        raise SnapshotError(422, name, "unreadable part")
    if len(data) > limit:
        raise SnapshotError(413, name, f"larger than {limit} bytes")
    return data


def build_router(kernel: Kernel) -> APIRouter:
    router = APIRouter(tags=["traffic"])
    store = snapshot_store(kernel)

    def camera_known(camera_id: str) -> bool:
        if not CAMERA_ID.fullmatch(camera_id):
            return False
        return kernel.registry.resolve(make_urn("Camera", camera_id)) is not None

    def camera_retired(camera_id: str) -> bool:
        """Deleted through the API: the entity stays for its history, off the registry."""
        with kernel.engine.connect() as conn:
            return not read_cameras(conn, [camera_id])

    @router.post(
        SNAPSHOT_PATH,
        status_code=201,
        summary="Post a camera's latest picture (part `image`: JPEG ≤ 2 MB) and overlay (part `overlay`: JSON)",
        max_body_size=MAX_IMAGE_BYTES + MAX_OVERLAY_BYTES + 64 * 1024,
        openapi_extra={
            "requestBody": {
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["image", "overlay"],
                            "properties": {
                                "image": {"type": "string", "format": "binary"},
                                "overlay": {
                                    "type": "string",
                                    "maxLength": MAX_OVERLAY_BYTES,
                                    "description": "JSON, see docs/traffic.md",
                                },
                            },
                        }
                    }
                }
            }
        },
    )
    async def post_snapshot(request: Request, camera_id: Key) -> Any:
        if not camera_known(camera_id):
            raise _not_found(camera_id)
        if await anyio.to_thread.run_sync(camera_retired, camera_id):
            raise HTTPException(
                404,
                detail={"code": "retired", "msg": f"camera {camera_id!r} is retired: it takes no snapshots"},
            )
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "multipart/form-data":
            return _failure(SnapshotError(415, "content-type", "use multipart/form-data"))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_IMAGE_BYTES + MAX_OVERLAY_BYTES + 64 * 1024:
            return _failure(SnapshotError(413, "body", "larger than the image and overlay limits"))
        try:
            form = await request.form(max_files=2, max_fields=2, max_part_size=MAX_OVERLAY_BYTES)
            jpeg = await _part(form, "image", MAX_IMAGE_BYTES)
            overlay = parse_overlay(await _part(form, "overlay", MAX_OVERLAY_BYTES))
            check_jpeg(jpeg)
        except SnapshotError as exc:
            return _failure(exc)
        snapshot = await anyio.to_thread.run_sync(store.put, camera_id, jpeg, overlay)
        return {"camera": camera_id, "bytes": len(jpeg), "received_ms": snapshot.received_ms}

    @router.get(
        "/cameras/{camera_id}/snapshot.jpg",
        summary="The camera's latest picture (JPEG); 404 when none was posted",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    async def get_snapshot_image(camera_id: Key) -> Response:
        if not camera_known(camera_id):
            raise _not_found(camera_id)
        snapshot = await anyio.to_thread.run_sync(store.get, camera_id)
        if snapshot is None:
            raise _not_found(camera_id)
        headers = {"Cache-Control": "no-store", "X-Snapshot-Received": str(snapshot.received_ms)}
        return Response(snapshot.jpeg, media_type="image/jpeg", headers=headers)

    @router.get("/cameras/{camera_id}/overlay", summary="What the worker saw in the latest picture")
    async def get_overlay(camera_id: Key) -> dict[str, Any]:
        if not camera_known(camera_id):
            raise _not_found(camera_id)
        snapshot = await anyio.to_thread.run_sync(store.get, camera_id)
        if snapshot is None:
            raise _not_found(camera_id)
        return {**snapshot.overlay, "received_ms": snapshot.received_ms}

    router.include_router(cameras_router(kernel, store))
    return router
