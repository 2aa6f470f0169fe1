"""A camera's analytics configuration, in the image coordinates of its frame, and how it becomes the
pipeline's `CameraConfig`.

Every check names its field: points inside the frame, lines of non-zero length, zone polygons that shapely
finds valid, at least four calibration pairs that fit a homography, names that are unique and refer to
something defined.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import MultiPoint, Polygon
from shapely.validation import explain_validity

from cityops.traffic.analytics.calibration import Calibration
from cityops.traffic.analytics.counting import CountLine
from cityops.traffic.analytics.incidents import StoppedVehicleRule, WrongWayRule
from cityops.traffic.analytics.pipeline import CameraConfig
from cityops.traffic.analytics.tracking import Anchor
from cityops.traffic.analytics.zones import Zone
from cityops.traffic.video.detections import TrafficClass
from cityops.traffic.video.motion import SizeBand
from cityops.traffic.video.sources import SourceConfig

Finite = Annotated[float, Field(allow_inf_nan=False)]
XY = tuple[Finite, Finite]
Name = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$", description="letters, digits, . _ -")
]
MAX_LINES = 16
MAX_ZONES = 16


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FrameSize(_Model):
    width: Annotated[int, Field(ge=16, le=7680)]
    height: Annotated[int, Field(ge=16, le=4320)]


class LineSpec(_Model):
    """Traffic crossing from `in_side` of start -> end (as seen looking from start to end) counts "in"."""

    id: Name
    start: XY
    end: XY
    in_side: Literal["left", "right"] = "left"
    zone: Name | None = Field(default=None, description="zone whose occupancy is reported with this line")
    stitch_s: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = Field(
        default=0.0,
        description="0: off. Where traffic keeps to its lanes: a vehicle hidden while it crosses is counted "
        "from its track before and after (seconds it may stay hidden)",
    )
    stitch_px: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = Field(
        default=20.0,
        description="how far apart along the line (pixels) the two halves of a stitched track may be",
    )

    @model_validator(mode="after")
    def _long_enough(self) -> LineSpec:
        if math.dist(self.start, self.end) < 2:
            raise ValueError("end: the line must be at least 2 pixels long (from start to end)")
        return self


class ZoneSpec(_Model):
    id: Name
    polygon: Annotated[list[XY], Field(min_length=3, max_length=64)]
    max_queue: Annotated[int | None, Field(ge=1, le=500)] = Field(
        default=None, description="vehicles queuing above which the queue is over length (an incident)"
    )
    head: XY | None = Field(default=None, description="where the queue starts (the stop line)")
    queue_speed: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = Field(
        default=1.0, description="below this speed a vehicle queues: m/s calibrated, else pixels/s"
    )
    allowed_direction: tuple[XY, XY] | None = Field(
        default=None, description="two points along the lane in the direction of travel (wrong-way check)"
    )
    wrong_way_min_s: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = Field(
        default=1.0, description="how long movement against the flow must last before it is wrong-way (s)"
    )
    wrong_way_min_travel: Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)] = Field(
        default=5.0, description="how far against the flow (m calibrated, else pixels) before it is wrong-way"
    )

    @field_validator("polygon")
    @classmethod
    def _valid_polygon(cls, points: list[XY]) -> list[XY]:
        shape = Polygon(points)
        if not shape.is_valid:
            raise ValueError(f"not a valid polygon: {explain_validity(shape)}")
        if shape.area < 1:
            raise ValueError("the polygon has no area")
        return points

    @field_validator("allowed_direction")
    @classmethod
    def _distinct(cls, value: tuple[XY, XY] | None) -> tuple[XY, XY] | None:
        if value is not None and math.dist(*value) < 1:
            raise ValueError("needs two distinct points")
        return value


class CalibrationPair(_Model):
    image: XY
    world: XY = Field(description="metres in any local ground frame (e.g. east/north of a corner)")


class CalibrationSpec(_Model):
    pairs: Annotated[list[CalibrationPair], Field(min_length=4, max_length=64)]

    @field_validator("pairs")
    @classmethod
    def _not_degenerate(cls, pairs: list[CalibrationPair]) -> list[CalibrationPair]:
        for side in ("image", "world"):
            points = [getattr(pair, side) for pair in pairs]
            if len(set(points)) != len(points):
                raise ValueError(f"two pairs share the same {side} point")
            hull = MultiPoint(points).convex_hull
            span = max(np.ptp([p[0] for p in points]), np.ptp([p[1] for p in points]), 1e-9)
            if hull.area < 1e-3 * span**2:
                raise ValueError(f"the {side} points lie (almost) on one line")
        if fit_homography(pairs) is None:
            raise ValueError("no homography fits these pairs")
        return pairs


class StoppedSpec(_Model):
    min_stopped_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 30.0
    tolerance: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 1.5
    zone: Name | None = None
    moving_s: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = Field(
        default=1.0, description="how long beyond `tolerance` before a stopped vehicle moves again (s)"
    )
    hidden_s: Annotated[float, Field(ge=0, le=600, allow_inf_nan=False)] = Field(
        default=10.0, description="how long a stopped vehicle's place is kept for a track that reappears (s)"
    )


class TrackingSpec(_Model):
    """How identities are kept in dense traffic (the tracker's side; lines, zones and the stopped-vehicle
    rule carry their own)."""

    lost_track_s: Annotated[float, Field(gt=0, le=30, allow_inf_nan=False)] = Field(
        default=2.5, description="how long a hidden track is kept (behind a bus, a lamp post) (s)"
    )
    min_hits: Annotated[int, Field(ge=1, le=30)] = Field(
        default=3,
        description="detections before a track is confirmed (one-frame false detections never count)",
    )
    match_buffer: Annotated[float, Field(ge=0, le=3, allow_inf_nan=False)] = Field(
        default=0.5, description="boxes widened by this share of their size before matching (fast or low fps)"
    )


class SizeBandSpec(_Model):
    max_area: Annotated[float | None, Field(gt=0, allow_inf_nan=False, description="px²; null: no limit")]
    traffic_class: Literal["motorbike", "car", "bus", "truck", "bicycle", "person", "vehicle"] = Field(
        alias="class"
    )


class Analytics(_Model):
    """`PUT /api/traffic/cameras/{id}/analytics`; coordinates are pixels of a `frame`-sized picture."""

    frame: FrameSize
    sample_fps: Annotated[float, Field(gt=0, le=30, allow_inf_nan=False)] = 5.0
    interval_s: Annotated[float, Field(ge=1, le=3600, allow_inf_nan=False)] = 60.0
    detector: Literal["onnx", "motion"] = "onnx"
    transport: Literal["tcp", "udp"] = Field(default="tcp", description="RTSP transport")
    listen: bool = Field(
        default=False, description="RTSP push: the worker listens at the stream URL, the camera or NVR sends"
    )
    lines: Annotated[list[LineSpec], Field(max_length=MAX_LINES)] = Field(default_factory=list)
    zones: Annotated[list[ZoneSpec], Field(max_length=MAX_ZONES)] = Field(default_factory=list)
    calibration: CalibrationSpec | None = None
    stopped_vehicle: StoppedSpec | None = None
    size_bands: Annotated[list[SizeBandSpec], Field(max_length=8)] = Field(
        default_factory=list, description="motion mode: blob area (px²) bands that name classes"
    )
    min_blob_area: Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)] = 150.0
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)

    @model_validator(mode="after")
    def _consistent(self) -> Analytics:
        inside = self._inside
        for index, line in enumerate(self.lines):
            for end in ("start", "end"):
                inside(getattr(line, end), f"lines.{index}.{end}")
        for index, zone in enumerate(self.zones):
            for point_index, point in enumerate(zone.polygon):
                inside(point, f"zones.{index}.polygon.{point_index}")
            if zone.head is not None:
                inside(zone.head, f"zones.{index}.head")
            for point_index, point in enumerate(zone.allowed_direction or ()):
                inside(point, f"zones.{index}.allowed_direction.{point_index}")
        if self.calibration is not None:
            for index, pair in enumerate(self.calibration.pairs):
                inside(pair.image, f"calibration.pairs.{index}.image")
        names = [line.id for line in self.lines] + [zone.id for zone in self.zones]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"lines, zones: ids must be unique ({repeated} repeated)")
        zones = {zone.id for zone in self.zones}
        for index, line in enumerate(self.lines):
            if line.zone is not None and line.zone not in zones:
                raise ValueError(f"lines.{index}.zone: no zone {line.zone!r}")
        if self.stopped_vehicle and self.stopped_vehicle.zone and self.stopped_vehicle.zone not in zones:
            raise ValueError(f"stopped_vehicle.zone: no zone {self.stopped_vehicle.zone!r}")
        return self

    def _inside(self, point: XY, field: str) -> None:
        x, y = point
        if not (0 <= x <= self.frame.width and 0 <= y <= self.frame.height):
            raise ValueError(
                f"{field}: ({x:g}, {y:g}) is outside the {self.frame.width}x{self.frame.height} frame"
            )

    def camera_config(self, camera_id: str, source: SourceConfig) -> CameraConfig:
        """The pipeline's configuration; frames are scaled to `frame.width` so pixels match."""
        anchor: Anchor = "centre" if self.detector == "motion" else "bottom"
        zones = {spec.id: _zone(spec, anchor) for spec in self.zones}
        lines = tuple(
            CountLine(
                spec.id,
                spec.start,
                spec.end,
                directions=("in", "out") if spec.in_side == "left" else ("out", "in"),
                zone=spec.zone,
                anchor=anchor,
                stitch_s=spec.stitch_s,
                stitch_px=spec.stitch_px,
            )
            for spec in self.lines
        )
        stopped = None
        if self.stopped_vehicle is not None:
            spec = self.stopped_vehicle
            stopped = StoppedVehicleRule(
                spec.min_stopped_s,
                spec.tolerance,
                zones.get(spec.zone or ""),
                moving_s=spec.moving_s,
                hidden_s=spec.hidden_s,
            )
        wrong_way = tuple(
            WrongWayRule(
                zones[spec.id],
                spec.allowed_direction,
                min_travel=spec.wrong_way_min_travel,
                min_duration_s=spec.wrong_way_min_s,
            )
            for spec in self.zones
            if spec.allowed_direction is not None
        )
        bands = tuple(
            SizeBand(math.inf if band.max_area is None else band.max_area, TrafficClass(band.traffic_class))
            for band in self.size_bands
        )
        return CameraConfig(
            camera_id=camera_id,
            source=source,
            mode="motion" if self.detector == "motion" else "detector",
            lines=lines,
            zones=tuple(zones.values()),
            stopped=stopped,
            wrong_way=wrong_way,
            calibration=None if self.calibration is None else FittedCalibration(self.calibration.pairs),
            interval_s=self.interval_s,
            size_bands=bands,
            min_blob_area=self.min_blob_area,
            min_hits=self.tracking.min_hits,
            lost_track_s=self.tracking.lost_track_s,
            match_buffer=self.tracking.match_buffer,
        )


def _zone(spec: ZoneSpec, anchor: Anchor) -> Zone:
    return Zone(spec.id, tuple(spec.polygon), queue_speed=spec.queue_speed, head=spec.head, anchor=anchor)


def fit_homography(pairs: list[CalibrationPair]) -> np.ndarray | None:
    """Least-squares homography image -> ground from four or more pairs; None when it is degenerate."""
    image = np.array([pair.image for pair in pairs], np.float64)
    world = np.array([pair.world for pair in pairs], np.float64)
    matrix, _ = cv2.findHomography(image, world, 0)
    if matrix is None or not np.isfinite(matrix).all() or abs(np.linalg.det(matrix)) < 1e-12:
        return None
    return np.asarray(matrix, np.float64)


class FittedCalibration(Calibration):
    """A `Calibration` fitted to four or more pairs (the base class takes exactly four)."""

    def __init__(self, pairs: list[CalibrationPair]) -> None:
        matrix = fit_homography(pairs)
        if matrix is None:
            raise ValueError("calibration.pairs: no homography fits these pairs")
        self.image_points = np.array([pair.image for pair in pairs], np.float32)
        self.world_points = np.array([pair.world for pair in pairs], np.float32)
        self.matrix = matrix
        self._inverse = np.asarray(np.linalg.inv(matrix), np.float64)
