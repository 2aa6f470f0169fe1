"""Counting lines: vehicles per class and direction, from confirmed tracks, with hysteresis.

Counting every time a box centre changes side double-counts: boxes jitter by a few pixels, so a vehicle
sitting on the line flips sides many times. Here a track has a side only once its anchor is more than
`hysteresis_px` away from the line; it is counted when that established side flips, only where it
crosses the segment itself (not its extension), and at most once per track and direction. A new track's
side starts from where the tracker first saw it (`TrackedObject.born`), not where it was confirmed: at
5 frames/s, or coming out from behind an occluder near the line, a vehicle is often confirmed only
after it crossed. A vehicle hidden (behind a bus) while it crosses may lose its track altogether: a new
track first seen just past the line, in the same lane (within `stitch_px` along the line) as a track that
was approaching the line from the other side and vanished less than `stitch_s` ago uncounted, takes over
that track's side, so the crossing is counted once (off unless `stitch_s` is set).

Direction: standing at `start` and looking at `end`, "forward" traffic crosses from left to right
(in image coordinates, y pointing down). `directions` renames the two ways, e.g. ("inbound", "outbound").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cityops.traffic.analytics.tracking import Anchor, MotionHistory, Point, TrackedObject
from cityops.traffic.video.detections import TrafficClass


@dataclass(frozen=True)
class CountLine:
    name: str
    start: Point
    end: Point
    hysteresis_px: float = 6.0
    directions: tuple[str, str] = ("forward", "backward")
    zone: str | None = None
    """Name of the zone whose occupancy is reported with this line's flow."""
    anchor: Anchor = "bottom"
    stitch_s: float = 0.0
    """0: off. Where traffic keeps to its lanes (not for pedestrians who stop, turn and meet: on OpenCV's
    vtest.avi it counts one crossing nobody made)."""
    stitch_px: float = 20.0

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("name: a counting line needs a name")
        if math.dist(self.start, self.end) < 2:
            raise ValueError(f"start, end: line {self.name!r} is shorter than 2 pixels")
        if self.hysteresis_px < 0:
            raise ValueError(f"hysteresis_px: must be >= 0 (got {self.hysteresis_px})")
        if self.stitch_s < 0 or self.stitch_px < 0:
            raise ValueError(f"stitch_s, stitch_px: must be >= 0 (got {self.stitch_s}, {self.stitch_px})")
        if len(self.directions) != 2 or self.directions[0] == self.directions[1]:
            raise ValueError(f"directions: need two different names (got {self.directions!r})")

    def signed_distance(self, point: Point) -> float:
        """Positive on the right of start -> end (image coordinates), in pixels."""
        (ax, ay), (bx, by) = self.start, self.end
        length = math.dist(self.start, self.end)
        return ((bx - ax) * (point[1] - ay) - (by - ay) * (point[0] - ax)) / length

    def along(self, point: Point) -> float:
        """Where the point projects on the segment: 0 at start, 1 at end."""
        (ax, ay), (bx, by) = self.start, self.end
        return ((point[0] - ax) * (bx - ax) + (point[1] - ay) * (by - ay)) / math.dist(
            self.start, self.end
        ) ** 2


@dataclass(frozen=True)
class Crossing:
    line: str
    direction: str
    track_id: int
    traffic_class: TrafficClass
    time_s: float
    speed_kmh: float | None


@dataclass
class _TrackState:
    side: int = 0
    last_point: Point | None = None
    counted: set[int] = field(default_factory=set)
    seen: float = 0.0
    approaching: bool = False
    handed_over: bool = False


class LineCounter:
    def __init__(self, line: CountLine, *, forget_s: float = 10.0) -> None:
        self.line = line
        self._tracks: dict[int, _TrackState] = {}
        self._forget_s = forget_s

    def update(
        self, objects: list[TrackedObject], time_s: float, history: MotionHistory | None = None
    ) -> list[Crossing]:
        crossings = []
        for obj in objects:
            point = obj.point(self.line.anchor)
            state = self._tracks.get(obj.track_id)
            if state is None:
                state = self._tracks[obj.track_id] = self._first_state(obj, time_s)
            state.seen = time_s
            distance = self.line.signed_distance(point)
            if state.last_point is not None:
                state.approaching = abs(distance) < abs(self.line.signed_distance(state.last_point))
            side = (
                1 if distance > self.line.hysteresis_px else -1 if distance < -self.line.hysteresis_px else 0
            )
            previous_point, state.last_point = state.last_point, point
            if side == 0 or side == state.side:
                continue
            flipped, state.side = state.side != 0, side
            if not flipped or not self._on_segment(previous_point, point):
                continue
            way = 0 if side > 0 else 1
            if way in state.counted:
                continue
            state.counted.add(way)
            speed = history.speed_kmh(obj.track_id) if history is not None else None
            crossings.append(
                Crossing(
                    self.line.name, self.line.directions[way], obj.track_id, obj.traffic_class, time_s, speed
                )
            )
        for track_id in [t for t, s in self._tracks.items() if time_s - s.seen > self._forget_s]:
            del self._tracks[track_id]
        return crossings

    def _first_state(self, obj: TrackedObject, time_s: float) -> _TrackState:
        born = obj.born_point(self.line.anchor)
        if born is None:
            return _TrackState()
        distance = self.line.signed_distance(born)
        if abs(distance) <= self.line.hysteresis_px:
            return _TrackState()
        side = 1 if distance > 0 else -1
        vanished = self._vanished(born, -side, time_s)
        if vanished is None:
            return _TrackState(side=side, last_point=born)
        vanished.handed_over = True
        vanished.counted.add(0 if side > 0 else 1)
        return _TrackState(side=-side, last_point=vanished.last_point)

    def _vanished(self, born: Point, side: int, time_s: float) -> _TrackState | None:
        """The latest uncounted track that approached the line on `side`, in `born`'s lane, and vanished
        less than `stitch_s` ago."""
        length = math.dist(self.line.start, self.line.end)
        way = 0 if side < 0 else 1
        candidates = [
            state
            for state in self._tracks.values()
            if state.side == side
            and state.approaching
            and not state.handed_over
            and way not in state.counted
            and state.last_point is not None
            and 0 < time_s - state.seen <= self.line.stitch_s
            and abs(self.line.along(state.last_point) - self.line.along(born)) * length <= self.line.stitch_px
        ]
        return max(candidates, key=lambda state: state.seen, default=None)

    def _on_segment(self, previous: Point | None, current: Point) -> bool:
        """Whether the path between the two positions met the segment (a small margin at the ends)."""
        if previous is None:
            return -0.05 <= self.line.along(current) <= 1.05
        d0, d1 = self.line.signed_distance(previous), self.line.signed_distance(current)
        share = d0 / (d0 - d1) if d0 != d1 else 0.5
        share = min(1.0, max(0.0, share))
        meet = (
            previous[0] + share * (current[0] - previous[0]),
            previous[1] + share * (current[1] - previous[1]),
        )
        return -0.05 <= self.line.along(meet) <= 1.05
