"""The newest picture of each camera and what the worker saw in it, for the dashboard's camera wall.

A worker posts a JPEG and an overlay (counting lines, zones, tracked boxes, counts so far) every few
seconds; only the latest pair per camera is kept, in memory and as two files under the snapshot folder
(written whole or not at all), so a restarted server still shows the last picture.
Limits: the JPEG at most `MAX_IMAGE_BYTES`, the overlay at most `MAX_OVERLAY_BYTES` and `MAX_BOXES` boxes.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_OVERLAY_BYTES = 256 * 1024
MAX_BOXES = 500
MAX_SHAPES = 50

Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-100_000, le=100_000)]
XY = tuple[Coordinate, Coordinate]
ShapeId = Annotated[str, Field(min_length=1, max_length=64)]
Count = Annotated[int, Field(ge=0)]


class SnapshotError(ValueError):
    """A part of the upload is unusable; `field` names it (image, overlay, overlay.boxes.3.x1...)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverlayLine(_Strict):
    id: ShapeId
    start: XY
    end: XY
    # Which side crossings count as "in" from (looking from start to end), as in the analytics.
    in_side: Literal["left", "right"] = "left"


class OverlayZone(_Strict):
    id: ShapeId
    polygon: Annotated[list[XY], Field(min_length=3, max_length=100)]


class OverlayBox(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    x1: Coordinate
    y1: Coordinate
    x2: Coordinate
    y2: Coordinate
    class_: Annotated[str, Field(alias="class", min_length=1, max_length=32)]
    track: int | None = None


class Overlay(_Strict):
    ts: Annotated[int, Field(ge=946_684_800_000, description="epoch milliseconds (after 2000)")]
    width: Annotated[int, Field(ge=16, le=16_384)]
    height: Annotated[int, Field(ge=16, le=16_384)]
    lines: Annotated[list[OverlayLine], Field(max_length=MAX_SHAPES)] = Field(default_factory=list)
    zones: Annotated[list[OverlayZone], Field(max_length=MAX_SHAPES)] = Field(default_factory=list)
    boxes: Annotated[list[OverlayBox], Field(max_length=MAX_BOXES)] = Field(default_factory=list)
    counts: dict[str, dict[str, dict[str, Count]]] = Field(
        default_factory=dict, description='line id -> class -> {"in": n, "out": n}'
    )

    @model_validator(mode="after")
    def _counts_are_in_and_out(self) -> Overlay:
        for line, classes in self.counts.items():
            for name, ways in classes.items():
                if set(ways) - {"in", "out"}:
                    raise ValueError(f"counts.{line}.{name}: only 'in' and 'out' are counted")
        return self


def parse_overlay(raw: bytes) -> Overlay:
    if len(raw) > MAX_OVERLAY_BYTES:
        raise SnapshotError(413, "overlay", f"larger than {MAX_OVERLAY_BYTES} bytes")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(422, "overlay", f"not JSON: {exc}") from None
    try:
        return Overlay.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in ("overlay", *error["loc"]))
        raise SnapshotError(422, where, error["msg"]) from None


def check_jpeg(data: bytes) -> None:
    """A JPEG by its bytes (start-of-image marker, then a marker segment; end-of-image at the end)."""
    if not data:
        raise SnapshotError(422, "image", "is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise SnapshotError(413, "image", f"larger than {MAX_IMAGE_BYTES} bytes")
    if not (data[:3] == b"\xff\xd8\xff" and data.rstrip(b"\x00\r\n")[-2:] == b"\xff\xd9"):
        raise SnapshotError(415, "image", "is not a JPEG (checked from its bytes)")


@dataclass(frozen=True)
class Snapshot:
    jpeg: bytes
    overlay: dict[str, Any]
    received_ms: int


class SnapshotStore:
    """The latest snapshot per camera id; thread-safe; files are `<id>.jpg` and `<id>.json`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._latest: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def put(self, camera_id: str, jpeg: bytes, overlay: Overlay) -> Snapshot:
        snapshot = Snapshot(jpeg, overlay.model_dump(by_alias=True), int(time.time() * 1000))
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {"received_ms": snapshot.received_ms, "overlay": snapshot.overlay}
        with self._lock:
            _write_whole(self.folder / f"{camera_id}.jpg", jpeg)
            _write_whole(self.folder / f"{camera_id}.json", orjson.dumps(meta))
            self._latest[camera_id] = snapshot
        return snapshot

    def get(self, camera_id: str) -> Snapshot | None:
        with self._lock:
            found = self._latest.get(camera_id)
            if found is not None:
                return found
            image, meta = self.folder / f"{camera_id}.jpg", self.folder / f"{camera_id}.json"
            try:
                stored = orjson.loads(meta.read_bytes())
                found = Snapshot(image.read_bytes(), stored["overlay"], int(stored["received_ms"]))
            except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                return None
            self._latest[camera_id] = found
            return found

    def forget(self, camera_id: str) -> None:
        with self._lock:
            self._latest.pop(camera_id, None)
            for suffix in (".jpg", ".json"):
                (self.folder / f"{camera_id}{suffix}").unlink(missing_ok=True)


def _write_whole(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)
