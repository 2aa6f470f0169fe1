"""Counting lines: vehicles per class and direction, from confirmed tracks, with hysteresis.

Counting every time a box centre changes side double-counts: boxes jitter by a few pixels, so a vehicle
sitting on the line flips sides many times. Here a track has a side only once its anchor is more than
`hysteresis_px` away from the line; it is counted when that established side flips, only where it
crosses the segment itself (not its extension), and at most once per track and direction. A new track's
side starts from where the tracker first saw it (`TrackedObject.born`), not where it was confirmed: at
5 frames/s, or coming out from behind an occluder near the line, a vehicle is often confirmed only
after it crossed.

Where traffic keeps to its lanes (`stitch_s` set), a vehicle hidden while it crosses is counted from its
motion. Each track's closing speed towards the line gives the time it would reach it. A new track first
seen past the line, in the same lane (within `stitch_px` along the line) as a track that approached from
the other side and vanished, continues that track when the times agree: the vanished track's predicted
crossing and the new track's, traced back from how fast it moves away from the line (within a quarter of
the time it was hidden, at least 0.5 s). Then the crossing is counted once. A track that vanished
approaching the line and would have reached it within `stitch_s` is counted once it has stayed hidden
that long; a new track that moves away from the line, having crossed it within `stitch_s` before it
was first seen, and continues no vanished track, is counted too. The times keep a vehicle that merely
missed a frame far from the line from lending its crossing to another one.

Direction: standing at `start` and looking at `end`, "forward" traffic crosses from left to right
(in image coordinates, y pointing down). `directions` renames the two ways, e.g. ("inbound", "outbound").
"""

from __future__ import annotations

import math
from collections import deque
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
    traffic_class: TrafficClass
    side: int = 0
    last_point: Point | None = None
    counted: set[int] = field(default_factory=set)
    seen: float = 0.0
    handed_over: bool = False
    path: deque[tuple[float, float]] = field(default_factory=deque)
    """Recent (time, signed distance to the line), for the closing speed."""


PATH_WINDOW_S = 2.0
SPEED_SPAN_S = 1.0
MIN_PATH = 3


class LineCounter:
    def __init__(self, line: CountLine, *, forget_s: float = 10.0) -> None:
        self.line = line
        self._tracks: dict[int, _TrackState] = {}
        self._forget_s = max(forget_s, 3 * line.stitch_s)

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
            state.traffic_class = obj.traffic_class
            distance = self.line.signed_distance(point)
            _remember(state.path, time_s, distance)
            side = (
                1 if distance > self.line.hysteresis_px else -1 if distance < -self.line.hysteresis_px else 0
            )
            previous_point, state.last_point = state.last_point, point
            if side == 0 or side == state.side:
                continue
            flipped, state.side = state.side != 0, side
            if not flipped or not self._on_segment(previous_point, point):
                continue
            crossing = self._count(obj.track_id, state, 0 if side > 0 else 1, time_s, history)
            if crossing is not None:
                crossings.append(crossing)
        if self.line.stitch_s > 0:
            crossings += self._crossed_while_hidden(time_s, history)
        for track_id in [t for t, s in self._tracks.items() if time_s - s.seen > self._forget_s]:
            del self._tracks[track_id]
        return crossings

    def _count(
        self, track_id: int, state: _TrackState, way: int, time_s: float, history: MotionHistory | None
    ) -> Crossing | None:
        if way in state.counted:
            return None
        state.counted.add(way)
        speed = history.speed_kmh(track_id) if history is not None else None
        return Crossing(
            self.line.name, self.line.directions[way], track_id, state.traffic_class, time_s, speed
        )

    def _crossed_while_hidden(self, time_s: float, history: MotionHistory | None) -> list[Crossing]:
        """Tracks that vanished approaching the line, would have reached it within `stitch_s` and have
        stayed hidden that long, no new track having continued them."""
        crossings = []
        for track_id, state in self._tracks.items():
            if state.handed_over or state.side == 0 or time_s - state.seen < self.line.stitch_s:
                continue
            reach = self._reach_time(state)
            if reach is None or reach - state.seen > self.line.stitch_s:
                continue
            state.handed_over = True  # decided, either way
            if self._found_again(state, time_s):
                continue
            crossing = self._count(track_id, state, 0 if state.side < 0 else 1, time_s, history)
            if crossing is not None:
                crossings.append(crossing)
        return crossings

    def _found_again(self, vanished: _TrackState, time_s: float) -> bool:
        """Whether a track that appeared after `vanished` was lost, in its lane, is now about where it
        would be: then it is that vehicle, and counts (or counted) its own crossing."""
        speed = _speed(vanished.path)
        if speed is None or vanished.last_point is None:
            return False
        t1, d1 = vanished.path[-1]
        predicted = d1 + speed * (time_s - t1)
        tolerance = max(self.line.hysteresis_px, abs(speed) * max(0.5, 0.25 * (time_s - t1)))
        return any(
            other.seen == time_s
            and other.path[0][0] > vanished.seen
            and other.last_point is not None
            and self._same_lane(other.last_point, vanished.last_point)
            and abs(other.path[-1][1] - predicted) <= tolerance
            for other in self._tracks.values()
        )

    def _same_lane(self, a: Point, b: Point) -> bool:
        length = math.dist(self.line.start, self.line.end)
        return abs(self.line.along(a) - self.line.along(b)) * length <= self.line.stitch_px

    def _reach_time(self, state: _TrackState) -> float | None:
        """When the track, closing on the line as fast as it did just before it was last seen, reaches
        it; None when it was not closing on it."""
        speed = _speed(state.path)
        t1, d1 = state.path[-1]
        if speed is None or speed * d1 >= 0 or abs(speed) * SPEED_SPAN_S <= self.line.hysteresis_px:
            return None
        return t1 + abs(d1 / speed)

    def _first_state(self, obj: TrackedObject, time_s: float) -> _TrackState:
        born = obj.born_point(self.line.anchor)
        state = _TrackState(obj.traffic_class)
        if born is None:
            return state
        distance = self.line.signed_distance(born)
        born_s = time_s if obj.born_s is None else obj.born_s
        _remember(state.path, born_s, distance)
        if abs(distance) <= self.line.hysteresis_px:
            return state
        side = 1 if distance > 0 else -1
        state.side, state.last_point = side, born
        if self.line.stitch_s <= 0:
            return state
        way = 0 if side > 0 else 1
        predecessor = self._predecessor(born, distance, born_s)
        if predecessor is not None:
            predecessor.handed_over = True
            state.counted |= predecessor.counted
            if predecessor.side == -side and way not in state.counted:
                predecessor.counted.add(way)
                state.side, state.last_point = -side, predecessor.last_point
            return state
        crossed = self._crossed_before_birth(distance, born_s, obj.point(self.line.anchor), time_s)
        if crossed is not None and born_s - crossed <= self.line.stitch_s:
            state.side, state.last_point = -side, self._mirror(born)
        return state

    def _crossed_before_birth(
        self, born_distance: float, born_s: float, point: Point, time_s: float
    ) -> float | None:
        """When a new track moving away from the line crossed it, traced back from its speed; None when
        it is not yet seen moving away."""
        receding = abs(self.line.signed_distance(point)) - abs(born_distance)
        if time_s <= born_s or receding <= self.line.hysteresis_px:
            return None
        return born_s - abs(born_distance) * (time_s - born_s) / receding

    def _predecessor(self, born: Point, distance: float, born_s: float) -> _TrackState | None:
        """The vanished track in `born`'s lane that a new track continues: the one whose position,
        carried on at its last speed, lies nearest where the new one appeared (within a quarter of the
        way it would have gone while hidden, at least half a second's)."""
        best: tuple[float, _TrackState] | None = None
        for state in self._tracks.values():
            hidden = born_s - state.seen
            if (
                state.handed_over
                or state.last_point is None
                or not 0 < hidden <= 2 * self.line.stitch_s
                or not self._same_lane(state.last_point, born)
            ):
                continue
            speed = _speed(state.path)
            if speed is None:
                continue
            predicted = state.path[-1][1] + speed * (born_s - state.path[-1][0])
            miss = abs(predicted - distance)
            if miss <= max(self.line.hysteresis_px, abs(speed) * max(0.5, 0.25 * hidden)) and (
                best is None or miss < best[0]
            ):
                best = (miss, state)
        return None if best is None else best[1]

    def _mirror(self, point: Point) -> Point:
        """The point's reflection across the line."""
        (ax, ay), (bx, by) = self.line.start, self.line.end
        length = math.dist(self.line.start, self.line.end)
        distance = self.line.signed_distance(point)
        normal = (-(by - ay) / length, (bx - ax) / length)  # unit, towards positive distances
        return (point[0] - 2 * distance * normal[0], point[1] - 2 * distance * normal[1])

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


def _remember(path: deque[tuple[float, float]], time_s: float, distance: float) -> None:
    path.append((time_s, distance))
    while len(path) > 2 and time_s - path[1][0] >= PATH_WINDOW_S:
        path.popleft()


def _speed(path: deque[tuple[float, float]]) -> float | None:
    """Signed distance to the line per second over the last `SPEED_SPAN_S` (a vehicle slowing down to
    stop is not carried on at the speed it came with); None for a path of fewer than `MIN_PATH` points
    (two boxes of a vehicle going behind something give no speed worth carrying on)."""
    if len(path) < MIN_PATH:
        return None
    t1, d1 = path[-1]
    t0, d0 = next((t, d) for t, d in path if t1 - t <= SPEED_SPAN_S)
    if t0 >= t1:
        t0, d0 = path[-2]
    return None if t1 <= t0 else (d1 - d0) / (t1 - t0)
