"""What a camera makes of one frame's detections: tracks, line crossings, zone figures and incidents.

Kept apart from reading frames and running the detector (`pipeline`), so that the same stages run on
detections from elsewhere, e.g. the simulated detector of `cityops.traffic.demo.dense`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cityops.traffic.analytics.calibration import Calibration
from cityops.traffic.analytics.counting import CountLine, Crossing, LineCounter
from cityops.traffic.analytics.incidents import Incident, IncidentDetector, StoppedVehicleRule, WrongWayRule
from cityops.traffic.analytics.tracking import MotionHistory, TrackedObject, VehicleTracker
from cityops.traffic.analytics.zones import Zone, ZoneMonitor
from cityops.traffic.video.detections import Detections


@dataclass
class FrameResult:
    objects: list[TrackedObject]
    crossings: list[Crossing]
    incidents: list[Incident]


class CameraAnalysis:
    def __init__(
        self,
        *,
        frame_rate: float,
        lines: Sequence[CountLine] = (),
        zones: Sequence[Zone] = (),
        stopped: StoppedVehicleRule | None = None,
        wrong_way: Sequence[WrongWayRule] = (),
        calibration: Calibration | None = None,
        min_hits: int = 3,
        lost_track_s: float = 2.5,
        **tracking: float,
    ) -> None:
        self.tracker = VehicleTracker(
            frame_rate=frame_rate, min_hits=min_hits, lost_track_s=lost_track_s, **tracking
        )
        self.history = MotionHistory(calibration=calibration)
        self.counters = [LineCounter(line) for line in lines]
        self.monitors = {zone.name: ZoneMonitor(zone) for zone in zones}
        self.incidents = IncidentDetector(stopped, wrong_way)

    def step(self, detections: Detections, time_s: float) -> FrameResult:
        objects = self.tracker.update(detections, time_s)
        self.history.update(objects, time_s)
        crossings = [c for counter in self.counters for c in counter.update(objects, time_s, self.history)]
        for monitor in self.monitors.values():
            monitor.update(objects, time_s, self.history)
        return FrameResult(objects, crossings, self.incidents.update(objects, time_s, self.history))
