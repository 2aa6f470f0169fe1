"""Incidents seen on a camera: a vehicle stopped where it should not, a vehicle going the wrong way.

Each rule fires once per track (a stopped vehicle that drives off and stops again fires again). Distances
are in metres where the camera is calibrated, else in pixels: set the thresholds to match.

Dense traffic makes both rules hard. Passing traffic hides part of a stopped vehicle (its box shrinks,
its anchor moves) or all of it for a few seconds (the tracker may give it a new id): a stopped vehicle
stays stopped until it has been away from where it stopped for `moving_s`, and a new track that appears
still where another stood still a moment ago inherits its waiting time. Boxes jitter and ids can swap
between vehicles passing each other: wrong-way needs movement against the flow sustained for
`min_duration_s`, step after step, with no jump larger than `min_travel` / 2 in one step.
A stopped vehicle must keep being detected, so this needs the detector mode (background subtraction
absorbs a vehicle that stands still into the background after `history` frames).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from cityops.traffic.analytics.tracking import MotionHistory, Point, TrackedObject
from cityops.traffic.analytics.zones import Zone
from cityops.traffic.video.detections import VEHICLE_CLASSES, TrafficClass


class IncidentKind(StrEnum):
    STOPPED_VEHICLE = "stopped_vehicle"
    WRONG_WAY = "wrong_way"


@dataclass(frozen=True)
class Incident:
    kind: IncidentKind
    track_id: int
    traffic_class: TrafficClass
    time_s: float
    box: tuple[float, float, float, float]
    where: str
    """The zone (or "frame") the rule watches."""
    detail: str


@dataclass(frozen=True)
class StoppedVehicleRule:
    min_stopped_s: float = 30.0
    tolerance: float = 1.5
    """How far (m, or px uncalibrated) a stopped vehicle's position may wander."""
    zone: Zone | None = None
    moving_s: float = 1.0
    """How long it must stay beyond `tolerance` to count as moving again (jitter and occlusion do not)."""
    hidden_s: float = 10.0
    """How long a place where a vehicle stood still is remembered for a new track appearing there."""

    def __post_init__(self) -> None:
        if self.min_stopped_s <= 0 or self.tolerance <= 0 or self.moving_s < 0 or self.hidden_s < 0:
            raise ValueError("min_stopped_s, tolerance: must be positive; moving_s, hidden_s: must be >= 0")


@dataclass(frozen=True)
class WrongWayRule:
    zone: Zone
    allowed: tuple[Point, Point]
    """Two image points along the lane, from where traffic comes to where it goes."""
    min_travel: float = 5.0
    """Distance (m, or px uncalibrated) a track must cover against the flow before it counts."""
    max_cosine: float = -0.5
    """How opposed to the lane's direction the movement must be (-1 = exactly backwards)."""
    min_duration_s: float = 1.0
    """How long the movement against the flow must have lasted."""

    def __post_init__(self) -> None:
        if math.dist(*self.allowed) < 1:
            raise ValueError(f"allowed: the direction of zone {self.zone.name!r} needs two distinct points")
        if not -1 <= self.max_cosine < 1 or self.min_travel <= 0 or self.min_duration_s < 0:
            raise ValueError(
                "max_cosine, min_travel, min_duration_s: need -1 <= max_cosine < 1, min_travel > 0 and "
                "min_duration_s >= 0"
            )


@dataclass
class _Still:
    since: float
    at: Point
    fired: bool = False
    seen: float = 0.0
    previous: _Still | None = None
    """Where it stood before this excursion, while the excursion is shorter than `moving_s`."""
    left: float = 0.0


@dataclass
class _Against:
    since: float
    start: Point
    last: Point


@dataclass
class IncidentDetector:
    stopped: StoppedVehicleRule | None = None
    wrong_way: Sequence[WrongWayRule] = ()
    _still: dict[int, _Still] = field(default_factory=dict)
    _wrong: set[tuple[int, str]] = field(default_factory=set)
    _travel: dict[tuple[int, str], _Against] = field(default_factory=dict)
    _places: list[_Still] = field(default_factory=list)
    """Where tracks that are gone stood still, for a new track appearing there."""
    _last_seen: dict[int, float] = field(default_factory=dict)
    forget_s: float = 60.0

    def update(
        self, objects: Sequence[TrackedObject], time_s: float, history: MotionHistory
    ) -> list[Incident]:
        incidents: list[Incident] = []
        for obj in objects:
            if obj.traffic_class not in VEHICLE_CLASSES:
                continue
            position = history.position(obj.track_id)
            if position is None:
                continue
            if self.stopped is not None:
                incidents.extend(self._check_stopped(obj, position, time_s))
            for rule in self.wrong_way:
                incidents.extend(self._check_wrong_way(rule, obj, position, time_s, history))
        self._leave_places(objects, time_s)
        self._forget(objects, time_s)
        return incidents

    def _leave_places(self, objects: Sequence[TrackedObject], time_s: float) -> None:
        """Tracks not seen for a moment leave their still place behind, for a new track to take over."""
        present = {obj.track_id for obj in objects}
        for track_id, still in list(self._still.items()):
            if track_id not in present and time_s - still.seen > 0.5:
                kept = still.previous or still
                if time_s - kept.since >= 2.0:
                    self._places.append(kept)
                del self._still[track_id]

    def _forget(self, objects: Sequence[TrackedObject], time_s: float) -> None:
        """Drop what is kept about tracks gone for `forget_s`, so a camera can run for months."""
        self._last_seen.update((obj.track_id, time_s) for obj in objects)
        gone = {t for t, seen in self._last_seen.items() if time_s - seen > self.forget_s}
        if not gone:
            return
        for track_id in gone:
            del self._last_seen[track_id]
            self._still.pop(track_id, None)
        self._wrong = {key for key in self._wrong if key[0] not in gone}
        self._travel = {key: point for key, point in self._travel.items() if key[0] not in gone}

    def _check_stopped(self, obj: TrackedObject, position: Point, time_s: float) -> list[Incident]:
        rule = self.stopped
        assert rule is not None
        if rule.zone is not None and not rule.zone.contains(obj.point(rule.zone.anchor)):
            self._still.pop(obj.track_id, None)
            return []
        still = self._still.get(obj.track_id)
        if still is None:
            still = self._inherit(position, time_s) or _Still(time_s, position)
        else:
            previous = still.previous
            if previous is not None and time_s - still.left > rule.moving_s:
                still.previous = previous = None  # away for long enough: it really moved
            if previous is not None and math.dist(previous.at, position) <= rule.tolerance:
                still = previous  # back where it stood: jitter or a moment of occlusion
            elif math.dist(still.at, position) > rule.tolerance:
                left = still.left if previous is not None else time_s
                still = _Still(time_s, position, previous=previous or still, left=left)
        self._still[obj.track_id] = still
        still.seen = time_s
        if still.fired or still.previous is not None or time_s - still.since < rule.min_stopped_s:
            return []
        still.fired = True
        where = rule.zone.name if rule.zone is not None else "frame"
        detail = f"stopped for {time_s - still.since:.0f} s"
        return [
            Incident(
                IncidentKind.STOPPED_VEHICLE, obj.track_id, obj.traffic_class, time_s, obj.box, where, detail
            )
        ]

    def _inherit(self, position: Point, time_s: float) -> _Still | None:
        """A still place left by a track that is gone, near `position`, seen within `hidden_s`."""
        rule = self.stopped
        assert rule is not None
        self._places = [p for p in self._places if time_s - p.seen <= rule.hidden_s]
        for place in self._places:
            if math.dist(place.at, position) <= rule.tolerance:
                self._places.remove(place)
                return _Still(place.since, place.at, place.fired, seen=time_s)
        return None

    def _check_wrong_way(
        self, rule: WrongWayRule, obj: TrackedObject, position: Point, time_s: float, history: MotionHistory
    ) -> list[Incident]:
        key = (obj.track_id, rule.zone.name)
        if key in self._wrong or not rule.zone.contains(obj.point(rule.zone.anchor)):
            return []
        lane = _direction(rule.allowed, history)
        against = self._travel.get(key)
        if against is None:
            self._travel[key] = _Against(time_s, position, position)
            return []
        step = (position[0] - against.last[0], position[1] - against.last[1])
        against.last = position
        if math.hypot(*step) > rule.min_travel / 2 or step[0] * lane[0] + step[1] * lane[1] > 0:
            # a jump (an id passed to another vehicle) or a step the right way: measure afresh from here
            self._travel[key] = _Against(time_s, position, position)
            return []
        moved = (position[0] - against.start[0], position[1] - against.start[1])
        distance = math.hypot(*moved)
        if distance < rule.min_travel or time_s - against.since < rule.min_duration_s:
            return []
        cosine = (moved[0] * lane[0] + moved[1] * lane[1]) / distance
        if cosine > rule.max_cosine:
            return []
        self._wrong.add(key)
        detail = f"{distance:.1f} {history.unit} against the direction of traffic"
        return [
            Incident(
                IncidentKind.WRONG_WAY,
                obj.track_id,
                obj.traffic_class,
                time_s,
                obj.box,
                rule.zone.name,
                detail,
            )
        ]


def _direction(allowed: tuple[Point, Point], history: MotionHistory) -> Point:
    """Unit vector of the lane's direction, in the same space as the history's positions."""
    start, end = allowed
    if history.calibration is not None:
        world = history.calibration.to_world(np.array([start, end], np.float64))
        start, end = (float(world[0][0]), float(world[0][1])), (float(world[1][0]), float(world[1][1]))
    length = math.dist(start, end)
    return ((end[0] - start[0]) / length, (end[1] - start[1]) / length)
