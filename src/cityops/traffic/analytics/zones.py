"""Zones drawn on the road: occupancy (share of time a vehicle is in the zone, as the Smart Data Models
define it) and queue length (vehicles standing or crawling in the zone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from cityops.traffic.analytics.tracking import Anchor, MotionHistory, Point, TrackedObject
from cityops.traffic.video.detections import VEHICLE_CLASSES


@dataclass(frozen=True)
class Zone:
    name: str
    polygon: tuple[Point, ...]
    queue_speed: float = 1.0
    """Below this speed a vehicle is queuing: metres/s where calibrated, else pixels/s (then set it)."""
    head: Point | None = None
    """Where the queue starts (the stop line); the queue length is measured from here, in metres where
    calibrated. None: the queue is reported as a number of vehicles only."""
    anchor: Anchor = "bottom"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("name: a zone needs a name")
        if len(self.polygon) < 3:
            raise ValueError(f"polygon: zone {self.name!r} needs at least 3 points (got {len(self.polygon)})")
        if abs(cv2.contourArea(self.contour)) < 1:
            raise ValueError(f"polygon: zone {self.name!r} has no area")

    @property
    def contour(self) -> np.ndarray:
        return np.array(self.polygon, np.float32).reshape(-1, 1, 2)

    def contains(self, point: Point) -> bool:
        return cv2.pointPolygonTest(self.contour, (float(point[0]), float(point[1])), False) >= 0


@dataclass(frozen=True)
class ZoneSummary:
    zone: str
    occupancy: float | None
    """Share of the observed time with a vehicle in the zone, 0..1; None if nothing was observed."""
    mean_vehicles: float | None
    max_queue: int
    max_queue_length: float | None
    """In metres where calibrated, else pixels; None without a head point."""


class ZoneMonitor:
    """Accumulates over an interval; `take()` returns the summary and starts the next interval."""

    def __init__(self, zone: Zone, *, max_step_s: float = 2.0) -> None:
        self.zone = zone
        self._max_step_s = max_step_s
        self._last_time: float | None = None
        self._reset()

    def _reset(self) -> None:
        self._observed = 0.0
        self._occupied = 0.0
        self._vehicle_seconds = 0.0
        self._max_queue = 0
        self._max_queue_length: float | None = None

    def update(self, objects: Sequence[TrackedObject], time_s: float, history: MotionHistory) -> int:
        """Account for the time since the previous update; returns the vehicles queuing now."""
        inside = [
            obj
            for obj in objects
            if obj.traffic_class in VEHICLE_CLASSES and self.zone.contains(obj.point(self.zone.anchor))
        ]
        if self._last_time is not None:
            step = min(max(0.0, time_s - self._last_time), self._max_step_s)
            self._observed += step
            self._occupied += step if inside else 0.0
            self._vehicle_seconds += step * len(inside)
        self._last_time = time_s
        queued = [
            obj
            for obj in inside
            if (speed := history.speed(obj.track_id)) is not None and speed < self.zone.queue_speed
        ]
        self._max_queue = max(self._max_queue, len(queued))
        if queued and self.zone.head is not None:
            length = max(self._distance_from_head(obj, history) for obj in queued)
            self._max_queue_length = max(self._max_queue_length or 0.0, length)
        return len(queued)

    def _distance_from_head(self, obj: TrackedObject, history: MotionHistory) -> float:
        assert self.zone.head is not None
        if history.calibration is not None:
            return history.calibration.distance_m(self.zone.head, obj.point(self.zone.anchor))
        head, point = self.zone.head, obj.point(self.zone.anchor)
        return float(np.hypot(point[0] - head[0], point[1] - head[1]))

    def take(self) -> ZoneSummary:
        observed = self._observed
        summary = ZoneSummary(
            self.zone.name,
            self._occupied / observed if observed > 0 else None,
            self._vehicle_seconds / observed if observed > 0 else None,
            self._max_queue,
            self._max_queue_length,
        )
        self._reset()
        return summary
