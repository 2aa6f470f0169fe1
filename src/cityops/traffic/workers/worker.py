"""`cityops traffic run`: watch the registry's cameras and send what they see to the server.

One process runs several cameras, each in its own thread (decoding and inference never touch an event
loop); they share one detector. Every interval each camera sends, as observations of its Camera entity:
`intensity` (vehicles/min over all its lines), `count.<class>` (vehicles in the interval), `occupancy`
(%, the busiest zone), `averageVehicleSpeed` (km/h, calibrated cameras), `congestionLevel` (0-3),
`queueVehicles`, `queueOverLength` (zones whose queue passed their `max_queue`), `incidents.stoppedVehicle`
and `incidents.wrongWay` (vehicles caught in the interval) and `state` 1. A stream that dies sends
`state` 0 (the `traffic.camera_down` rule raises an alert) and is retried; when it is back `state` 1
clears the alert. `state` is repeated every `heartbeat_s` so the registry's state stays fresh.
A snapshot (JPEG and overlay) goes to the camera wall every `snapshot_every_s`.
The registry is read again every `reload_s`: new cameras start, retired ones stop, and a camera whose
stream URL or analytics changed restarts with the new configuration.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import orjson
from sqlalchemy import Engine

from cityops.core.entities import make_urn
from cityops.traffic.analytics.config import Analytics
from cityops.traffic.analytics.flow import TrafficFlowObserved
from cityops.traffic.analytics.incidents import Incident, IncidentKind
from cityops.traffic.analytics.pipeline import CameraConfig, CameraHandle, CameraReport, start_camera
from cityops.traffic.analytics.tracking import TrackedObject
from cityops.traffic.registry import pin_stream_url, read_cameras
from cityops.traffic.video.detector import NanoDetDetector
from cityops.traffic.video.sources import Frame, SourceConfig, SourceEvent, SourceState, redact

log = logging.getLogger(__name__)
JPEG_QUALITY = 75


@dataclass(frozen=True)
class WorkerOptions:
    server: str
    token: str
    database_url: str
    camera_ids: tuple[str, ...] | None = None
    model: Path | None = None
    snapshot_every_s: float = 5.0
    heartbeat_s: float = 30.0
    status_every_s: float = 10.0
    open_timeout_s: float = 10.0
    read_timeout_s: float = 10.0
    backoff_max_s: float = 30.0
    reload_s: float = 30.0
    """Seconds between reads of the registry (cameras added, retired or changed); 0 reads it once."""
    shard: tuple[int, int] | None = None
    allow_local: bool = False
    """The installation's `outbound_private_allowed`: streams on this machine or link-local addresses."""
    """(n, of): this process watches only the cameras `shard_of` gives to n (see `--workers`)."""


def shard_of(camera_id: str, of: int) -> int:
    """Which of `of` worker processes watches the camera: stable across restarts and registry changes."""
    return zlib.crc32(camera_id.encode()) % of


@dataclass(frozen=True)
class WorkerCamera:
    camera_id: str
    analytics: Analytics
    config: CameraConfig
    signature: str = ""
    """The registry's stream URL and analytics as read: a camera whose signature changed is restarted."""


def load_cameras(engine: Engine, options: WorkerOptions) -> tuple[list[WorkerCamera], list[str]]:
    """The cameras to watch, and why the others asked for were left out."""
    with engine.connect() as conn:
        rows = read_cameras(conn, list(options.camera_ids) if options.camera_ids else None)
    cameras, skipped = [], []
    found = {row.camera_id for row in rows}
    skipped += [f"{c}: not in the registry" for c in options.camera_ids or () if c not in found]
    for row in rows:
        if options.shard is not None and shard_of(row.camera_id, options.shard[1]) != options.shard[0]:
            continue
        if not row.stream_url or not row.analytics:
            if options.camera_ids:
                skipped.append(f"{row.camera_id}: no stream URL or no analytics configuration")
            continue
        analytics = Analytics.model_validate(row.analytics)
        source = SourceConfig(
            row.stream_url,
            sample_fps=analytics.sample_fps,
            transport=analytics.transport,
            listen=analytics.listen,
            open_timeout_s=options.open_timeout_s,
            read_timeout_s=options.read_timeout_s,
            backoff_initial_s=0.5,
            backoff_max_s=options.backoff_max_s,
            scale_width=analytics.frame.width,
            pin=partial(pin_stream_url, allow_local=options.allow_local),
        )
        signature = orjson.dumps([row.stream_url, row.analytics], option=orjson.OPT_SORT_KEYS).decode()
        config = analytics.camera_config(row.camera_id, source)
        cameras.append(WorkerCamera(row.camera_id, analytics, config, signature))
    return cameras, skipped


def interval_points(
    urn: str,
    records: list[TrafficFlowObserved],
    analytics: Analytics,
    incidents: Counter[IncidentKind],
) -> list[dict[str, Any]]:
    """One interval's flow records (one per line and direction, one per lone zone) as the Camera's points."""
    if not records:
        return []
    first = records[0]
    time_ms = int(first.date_to.timestamp() * 1000)
    seconds = max((first.date_to - first.date_from).total_seconds(), 1e-3)
    values: dict[str, float] = {"state": 1.0}
    line_records = [r for r in records if r.direction is not None]
    if analytics.lines:
        vehicles = sum(r.intensity or 0 for r in line_records)
        values["intensity"] = round(vehicles * 60 / seconds, 2)
        by_class: Counter[str] = Counter()
        for record in line_records:
            by_class.update(record.intensity_by_class)
        for name in ("motorbike", "car", "bus", "truck", "bicycle", "person", "vehicle"):
            values[f"count.{name}"] = float(by_class.get(name, 0))
    occupancies = [r.occupancy for r in records if r.occupancy is not None]
    if occupancies:
        values["occupancy"] = round(100 * max(occupancies), 2)
    speeds = [
        (r.average_vehicle_speed, r.intensity or 1) for r in records if r.average_vehicle_speed is not None
    ]
    if speeds:
        values["averageVehicleSpeed"] = round(sum(s * n for s, n in speeds) / sum(n for _, n in speeds), 1)
    values["congestionLevel"] = float(max(int(r.congestion_level) for r in records))
    if analytics.zones:
        zone_of_line = {line.id: line.zone for line in analytics.lines}
        queues: dict[str, int] = {}
        for record in records:
            zone = record.line if record.direction is None else zone_of_line.get(record.line)
            if zone is not None and record.queue_vehicles is not None:
                queues[zone] = max(queues.get(zone, 0), record.queue_vehicles)
        values["queueVehicles"] = float(max(queues.values(), default=0))
        limits = {zone.id: zone.max_queue for zone in analytics.zones if zone.max_queue is not None}
        values["queueOverLength"] = float(sum(queues.get(z, 0) > limit for z, limit in limits.items()))
    values["incidents.stoppedVehicle"] = float(incidents[IncidentKind.STOPPED_VEHICLE])
    values["incidents.wrongWay"] = float(incidents[IncidentKind.WRONG_WAY])
    return [
        {"entity": urn, "metric": metric, "time": time_ms, "value": value} for metric, value in values.items()
    ]


def overlay_of(
    camera: WorkerCamera, frame: Frame, objects: list[TrackedObject], report: CameraReport
) -> dict[str, Any]:
    """The snapshot's overlay: the camera's lines and zones, the tracked boxes, counts since start."""
    width, height = frame.size
    counts: dict[str, dict[str, dict[str, int]]] = {line.id: {} for line in camera.analytics.lines}
    for (line, direction, name), n in report.counts.items():
        ways = counts.setdefault(line, {}).setdefault(name, {"in": 0, "out": 0})
        ways[direction] = ways.get(direction, 0) + n
    return {
        "ts": int(time.time() * 1000),
        "width": width,
        "height": height,
        "lines": [
            {"id": line.id, "start": line.start, "end": line.end, "in_side": line.in_side}
            for line in camera.analytics.lines
        ],
        "zones": [{"id": zone.id, "polygon": zone.polygon} for zone in camera.analytics.zones],
        "boxes": [
            {
                "x1": round(float(obj.box[0]), 1),
                "y1": round(float(obj.box[1]), 1),
                "x2": round(float(obj.box[2]), 1),
                "y2": round(float(obj.box[3]), 1),
                "class": obj.traffic_class.value,
                "track": obj.track_id,
            }
            for obj in objects[:500]
        ],
        "counts": counts,
    }


Send = Callable[[list[dict[str, Any]]], None]
SendSnapshot = Callable[[str, bytes, dict[str, Any]], None]


@dataclass
class CameraRun:
    """One camera's thread and what it reports; the callbacks run in that thread."""

    camera: WorkerCamera
    send: Send
    send_snapshot: SendSnapshot
    snapshot_every_s: float
    state: SourceState | None = None
    state_since: float = field(default_factory=time.time)
    intervals: int = 0
    counted: int = 0
    frames: int = 0
    handle: CameraHandle | None = None
    _pending: list[TrafficFlowObserved] = field(default_factory=list)
    _incidents: Counter[IncidentKind] = field(default_factory=Counter)
    _last_snapshot: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def urn(self) -> str:
        return make_urn("Camera", self.camera.camera_id)

    def start(self, detector: NanoDetDetector | None) -> None:
        self.handle = start_camera(
            self.camera.config,
            detector=detector,
            on_flow=self._on_flow,
            on_incident=self._on_incident,
            on_source_event=self._on_source_event,
            on_frame=self._on_frame,
            started_at=datetime.now(UTC),
        )

    def heartbeat(self) -> None:
        if self.state is not None:
            value = 1.0 if self.state is SourceState.UP else 0.0
            self.send(
                [{"entity": self.urn, "metric": "state", "time": int(time.time() * 1000), "value": value}]
            )

    def _flush_intervals(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            incidents, self._incidents = self._incidents, Counter()
        by_end: dict[datetime, list[TrafficFlowObserved]] = {}
        for record in pending:
            by_end.setdefault(record.date_to, []).append(record)
        for index, (_, records) in enumerate(sorted(by_end.items())):
            points = interval_points(
                self.urn, records, self.camera.analytics, incidents if index == 0 else Counter()
            )
            self.intervals += 1
            self.counted += int(sum(p["value"] for p in points if p["metric"].startswith("count.")))
            self.send(points)

    def _on_flow(self, record: TrafficFlowObserved) -> None:
        with self._lock:
            self._pending.append(record)

    def _on_incident(self, incident: Incident) -> None:
        log.info(
            "%s: %s (%s, %s)", self.camera.camera_id, incident.kind.value, incident.where, incident.detail
        )
        with self._lock:
            self._incidents[incident.kind] += 1

    def _on_source_event(self, event: SourceEvent) -> None:
        self._flush_intervals()
        self.state, self.state_since = event.state, event.at
        value = 1.0 if event.state is SourceState.UP else 0.0
        log.warning("camera %s is %s: %s", self.camera.camera_id, event.state.value, event.reason)
        self.send([{"entity": self.urn, "metric": "state", "time": int(event.at * 1000), "value": value}])

    def _on_frame(self, frame: Frame, objects: list[TrackedObject], report: CameraReport) -> None:
        self.frames += 1
        if self._pending:
            self._flush_intervals()
        now = time.monotonic()
        if now - self._last_snapshot < self.snapshot_every_s:
            return
        self._last_snapshot = now
        ok, encoded = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            self.send_snapshot(
                self.camera.camera_id, encoded.tobytes(), overlay_of(self.camera, frame, objects, report)
            )

    def status(self) -> str:
        handle = self.handle
        if handle is not None and handle.error is not None:
            state = f"failed: {handle.error}"
        else:
            state = self.state.value if self.state is not None else "connecting"
        return (
            f"{self.camera.camera_id:<16} {state:<10} frames {self.frames:>7}  intervals {self.intervals:>5}"
            f"  counted {self.counted:>6}  {redact(self.camera.config.source.url)}"
        )
