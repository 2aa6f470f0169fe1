"""Identities across frames: ByteTrack from Roboflow's `trackers` (CPU, NumPy/SciPy, no torch).

Only confirmed tracks (matched in `min_hits` detections) come out, so a one-frame false detection never
reaches a counter; each carries where the tracker first saw it, so a vehicle confirmed only after it
crossed a line (first seen behind an occluder, or at 5 frames/s) is still counted. A track's class is the score-weighted vote of every detection it
was matched to, so one misread frame does not change what was counted. `MotionHistory` keeps each track's
recent ground positions for speed, queues, stopped vehicles and wrong-way driving.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
import supervision as sv
from numpy.typing import NDArray
from trackers import ByteTrackTracker
from trackers.utils.iou import BIoU

from cityops.traffic.analytics.calibration import Calibration
from cityops.traffic.video.detections import CLASSES, Detections, TrafficClass

Point = tuple[float, float]
Anchor = Literal["bottom", "centre"]


@dataclass(frozen=True)
class TrackedObject:
    track_id: int
    traffic_class: TrafficClass
    box: tuple[float, float, float, float]
    score: float
    born: tuple[float, float, float, float] | None = None
    """The box where the tracker first saw this track, before it was confirmed."""
    born_s: float | None = None
    """When the tracker first saw it."""

    def point(self, anchor: Anchor = "bottom") -> Point:
        """Bottom centre (where a vehicle touches the road, as lines and calibration expect) or centre."""
        return _anchor_point(self.box, anchor)

    def born_point(self, anchor: Anchor = "bottom") -> Point | None:
        return None if self.born is None else _anchor_point(self.born, anchor)


def _anchor_point(box: tuple[float, float, float, float], anchor: Anchor) -> Point:
    x1, y1, x2, y2 = box
    return ((x1 + x2) / 2, y2 if anchor == "bottom" else (y1 + y2) / 2)


class VehicleTracker:
    def __init__(
        self,
        *,
        frame_rate: float,
        lost_track_s: float = 2.5,
        min_hits: int = 3,
        activation_score: float = 0.4,
        high_score: float = 0.5,
        match_iou: float = 0.1,
        match_buffer: float = 0.5,
        forget_s: float = 10.0,
    ) -> None:
        if frame_rate <= 0:
            raise ValueError(f"frame_rate: must be positive (got {frame_rate})")
        if min_hits < 1:
            raise ValueError(f"min_hits: must be at least 1 (got {min_hits})")
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(lost_track_s * 30)),  # counted in 30 fps frames by `trackers`
            frame_rate=frame_rate,
            track_activation_threshold=activation_score,
            minimum_consecutive_frames=1,  # every match gets an id; confirmation is counted here
            minimum_iou_threshold=match_iou,
            high_conf_det_threshold=high_score,
            # Boxes widened by `match_buffer` of their size before IoU (C-BIoU, Yang et al. 2023): at
            # 5 frames/s a motorbike moves more than its own length between frames.
            iou=BIoU(buffer_ratio=match_buffer),
        )
        self._min_hits = min_hits
        self.lost_track_s, self.match_buffer = lost_track_s, match_buffer  # as configured, for reading
        self._votes: dict[int, Counter[int]] = {}
        self._hits: Counter[int] = Counter()
        self._born: dict[int, tuple[float, tuple[float, float, float, float]]] = {}
        self._last_seen: dict[int, float] = {}
        self._forget_s = forget_s

    def reset(self) -> None:
        """Forget every track, e.g. when the picture changed size or the camera reconnected."""
        self._tracker.reset()
        self._votes.clear()
        self._hits.clear()
        self._born.clear()
        self._last_seen.clear()

    def update(self, detections: Detections, time_s: float) -> list[TrackedObject]:
        tracked = self._tracker.update(self._to_supervision(detections), timestamp=time_s)
        objects = []
        ids = tracked.tracker_id if tracked.tracker_id is not None else np.full(len(tracked), -1)
        for box, score, label, track_id in zip(
            tracked.xyxy, _scores(tracked), _labels(tracked), ids, strict=True
        ):
            if track_id < 0:
                continue
            key = int(track_id)
            votes = self._votes.setdefault(key, Counter())
            votes[int(label)] += max(1, round(float(score) * 100))
            self._last_seen[key] = time_s
            x1, y1, x2, y2 = (float(v) for v in box)
            born_s, born = self._born.setdefault(key, (time_s, (x1, y1, x2, y2)))
            self._hits[key] += 1
            if self._hits[key] + 1 < self._min_hits:  # +1: the detection that started the track
                continue
            winner = votes.most_common(1)[0][0]
            objects.append(TrackedObject(key, CLASSES[winner], (x1, y1, x2, y2), float(score), born, born_s))
        self._forget(time_s)
        return objects

    def _forget(self, now: float) -> None:
        for track_id in [t for t, seen in self._last_seen.items() if now - seen > self._forget_s]:
            del self._last_seen[track_id]
            self._votes.pop(track_id, None)
            self._hits.pop(track_id, None)
            self._born.pop(track_id, None)

    @staticmethod
    def _to_supervision(detections: Detections) -> sv.Detections:
        if not len(detections):
            return sv.Detections.empty()
        return sv.Detections(
            xyxy=detections.boxes.astype(np.float32),
            confidence=detections.scores.astype(np.float32),
            class_id=detections.labels.astype(int),
        )


def _scores(tracked: sv.Detections) -> NDArray[np.float32]:
    if tracked.confidence is None:
        return np.ones(len(tracked), np.float32)
    return np.asarray(tracked.confidence, np.float32)


def _labels(tracked: sv.Detections) -> NDArray[np.int64]:
    if tracked.class_id is None:
        return np.full(len(tracked), CLASSES.index(TrafficClass.VEHICLE), np.int64)
    return np.asarray(tracked.class_id, np.int64)


class MotionHistory:
    """Recent positions of each track, on the ground (metres) where calibrated, else in pixels."""

    def __init__(
        self,
        *,
        calibration: Calibration | None = None,
        window_s: float = 2.0,
        anchor: Anchor = "bottom",
        forget_s: float = 10.0,
    ) -> None:
        self.calibration = calibration
        self.window_s = window_s
        self.anchor: Anchor = anchor
        self._tracks: dict[int, deque[tuple[float, Point]]] = {}
        self._forget_s = forget_s

    @property
    def unit(self) -> str:
        return "m" if self.calibration is not None else "px"

    def update(self, objects: list[TrackedObject], time_s: float) -> None:
        points = [obj.point(self.anchor) for obj in objects]
        if self.calibration is not None and points:
            points = [(float(x), float(y)) for x, y in self.calibration.to_world(np.array(points))]
        for obj, point in zip(objects, points, strict=True):
            history = self._tracks.setdefault(obj.track_id, deque())
            history.append((time_s, point))
            while len(history) > 2 and time_s - history[1][0] >= self.window_s:
                history.popleft()
        for track_id in [t for t, h in self._tracks.items() if time_s - h[-1][0] > self._forget_s]:
            del self._tracks[track_id]

    def position(self, track_id: int) -> Point | None:
        history = self._tracks.get(track_id)
        return history[-1][1] if history else None

    def velocity(self, track_id: int, min_span_s: float = 0.3) -> Point | None:
        """Units (m or px) per second over the window, None until the track spans `min_span_s`."""
        history = self._tracks.get(track_id)
        if not history or history[-1][0] - history[0][0] < min_span_s:
            return None
        (t0, (x0, y0)), (t1, (x1, y1)) = history[0], history[-1]
        return ((x1 - x0) / (t1 - t0), (y1 - y0) / (t1 - t0))

    def speed(self, track_id: int) -> float | None:
        """Units per second; km/h is `speed * 3.6` when calibrated."""
        velocity = self.velocity(track_id)
        return None if velocity is None else math.hypot(*velocity)

    def speed_kmh(self, track_id: int) -> float | None:
        speed = self.speed(track_id) if self.calibration is not None else None
        return None if speed is None else speed * 3.6
