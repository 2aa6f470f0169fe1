"""Dense mixed traffic with known ground truth, seen by a simulated detector, to measure counting and
incident rules where they fail: occlusion, large vehicles passing each other, a stopped car behind
passing traffic, a wrong-way motorbike.

The camera looks along a six-lane road from the side and above: lanes 0-2 (far, top of the picture) go
right to left ("backward"), lanes 3-5 (near) left to right ("forward"). A vehicle's box stands on its
lane's line and is taller than a lane is apart, so near vehicles hide far ones; a lamp post and a sign
hide a fixed part of the picture near the counting line. Every frame (5 per second, as the worker runs
the detector), `simulated_detections` reports what a real detector would: the visible part of each
vehicle's box (none when less than a third shows), jittered by a few pixels, sometimes missed, with a
lower score when partly hidden, a wrong class now and then and a false box from time to time.
This tests the tracking, counting and incident stages on scenes harder than the synthetic video of
`synthetic`, which NanoDet cannot be run on (its vehicles are coloured rectangles).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from cityops.traffic.analytics.analysis import CameraAnalysis
from cityops.traffic.analytics.counting import CountLine
from cityops.traffic.analytics.incidents import Incident, IncidentKind, StoppedVehicleRule, WrongWayRule
from cityops.traffic.analytics.zones import Zone
from cityops.traffic.video.detections import CLASSES, Detections, TrafficClass

WIDTH, HEIGHT = 960, 540
LANES = 6
LANE_GAP = 34
FAR_LANE_Y = 200
"""Where lane 0's vehicles stand; lane i stands at FAR_LANE_Y + i * LANE_GAP."""
LINE_X = 470
# length x height in pixels: taller than LANE_GAP, so a near vehicle hides the lower part of the ones
# behind it (a bus hides them whole).
SHAPES: dict[TrafficClass, tuple[int, int]] = {
    TrafficClass.MOTORBIKE: (30, 34),
    TrafficClass.CAR: (70, 42),
    TrafficClass.TRUCK: (120, 70),
    TrafficClass.BUS: (170, 82),
}
KIND_WEIGHTS = {TrafficClass.MOTORBIKE: 5, TrafficClass.CAR: 4, TrafficClass.TRUCK: 1, TrafficClass.BUS: 1}
LAMP_POST = (LINE_X - 34, 90, LINE_X - 24, HEIGHT)
SIGN = (LINE_X + 20, 100, LINE_X + 90, FAR_LANE_Y - 20)
"""A sign over the far lane just before the line (for its right-to-left traffic): it hides the upper half
of a car there, most of a bus."""
SCALE = 4
"""The occlusion raster is WIDTH/SCALE x HEIGHT/SCALE."""


@dataclass(frozen=True)
class Vehicle:
    id: int
    kind: TrafficClass
    y: float
    """Where its box stands (bottom edge), in pixels."""
    heading: int
    """+1 left to right, -1 right to left."""
    enter_s: float
    speed: float
    stop_x: float | None = None
    """Where it stops (and stays until the end), if it does."""

    @property
    def direction(self) -> str:
        return "forward" if self.heading > 0 else "backward"

    def x(self, t: float) -> float | None:
        """Centre x at time t, None when off screen."""
        if t < self.enter_s:
            return None
        length = SHAPES[self.kind][0]
        start = -length / 2 if self.heading > 0 else WIDTH + length / 2
        x = start + self.heading * self.speed * (t - self.enter_s)
        if self.stop_x is not None and (x - self.stop_x) * self.heading > 0:
            x = self.stop_x
        return x if -length / 2 <= x <= WIDTH + length / 2 else None

    def box(self, t: float) -> tuple[float, float, float, float] | None:
        x = self.x(t)
        if x is None:
            return None
        length, height = SHAPES[self.kind]
        return x - length / 2, self.y - height, x + length / 2, self.y

    def crosses_by(self, t: float) -> bool:
        """Whether its centre has passed the counting line by time t."""
        if self.stop_x is not None and (LINE_X - self.stop_x) * self.heading >= 0:
            return False
        length = SHAPES[self.kind][0]
        distance = LINE_X + length / 2 if self.heading > 0 else WIDTH - LINE_X + length / 2
        return self.enter_s + distance / self.speed <= t


@dataclass(frozen=True)
class DenseScene:
    seed: int
    vehicles: tuple[Vehicle, ...]
    duration_s: float
    stopped_id: int
    wrong_way_id: int
    fps: float = 5.0

    def ground_truth(self) -> Counter[str]:
        """Vehicles whose centre crossed the line, per direction, by the end of the scene."""
        return Counter(v.direction for v in self.vehicles if v.crosses_by(self.duration_s))

    def vehicle(self, vehicle_id: int) -> Vehicle:
        return next(v for v in self.vehicles if v.id == vehicle_id)


def lane_y(lane: float) -> float:
    return FAR_LANE_Y + lane * LANE_GAP


def dense_scene(
    seed: int, *, duration_s: float = 90.0, headway_s: tuple[float, float] = (0.5, 2.2)
) -> DenseScene:
    """Six lanes of mixed traffic with buses passing each other, a car that stops on the far shoulder
    and stays while traffic passes in front, and a motorbike riding the wrong way along the near kerb."""
    rng = random.Random(seed)
    vehicles: list[Vehicle] = []
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())

    def add(
        kind: TrafficClass, lane: float, heading: int, enter_s: float, speed: float, **extra: float
    ) -> Vehicle:
        vehicle = Vehicle(len(vehicles), kind, lane_y(lane), heading, round(enter_s, 3), speed, **extra)
        vehicles.append(vehicle)
        return vehicle

    stopped = add(
        TrafficClass.CAR, -0.9, -1, rng.uniform(3, 8), rng.uniform(90, 120), stop_x=rng.uniform(600, 700)
    )
    wrong = add(TrafficClass.MOTORBIKE, LANES - 0.35, -1, rng.uniform(35, 55), rng.uniform(60, 90))
    passing = rng.uniform(20, 60)
    for lane, heading in ((2, -1), (3, 1), (4, 1)):  # buses meeting and overtaking near the line
        speed = rng.uniform(110, 150) if lane != 4 else rng.uniform(60, 80)
        distance = (WIDTH - LINE_X if heading < 0 else LINE_X) + SHAPES[TrafficClass.BUS][0] / 2
        add(TrafficClass.BUS, lane, heading, passing - distance / speed, speed)
    scripted = list(vehicles[2:])
    for lane in range(LANES):
        heading = -1 if lane < 3 else 1
        speed = rng.uniform(90, 190) * (0.8 if lane in (2, 3) else 1.0)
        clock = rng.uniform(0.0, 2.0)
        while clock < duration_s:
            kind = rng.choices(kinds, weights)[0]
            length = SHAPES[kind][0]
            clear = all(
                other.y != lane_y(lane) or abs(clock - other.enter_s) * min(speed, other.speed) > length + 60
                for other in scripted
            )
            if clear:
                add(kind, lane, heading, clock, speed * rng.uniform(0.97, 1.03))
            clock += (length + 30) / speed + rng.uniform(*headway_s)
    return DenseScene(seed, tuple(vehicles), duration_s, stopped.id, wrong.id)


@dataclass
class DetectorNoise:
    """How far the simulated detector is from perfect (defaults: a fair small CPU model at 5 frames/s)."""

    min_visible: float = 0.33
    miss: float = 0.06
    jitter_px: float = 2.0
    jitter_share: float = 0.03
    wrong_class: float = 0.06
    false_boxes: float = 0.05
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))


def simulated_detections(
    scene: DenseScene, t: float, noise: DetectorNoise
) -> tuple[Detections, dict[int, float]]:
    """What a detector reports at time t, and the visible share of each vehicle on screen."""
    on_screen = [(v, box) for v in scene.vehicles if (box := v.box(t)) is not None]
    on_screen.sort(key=lambda item: item[0].y)  # far first: nearer ones are drawn over them
    owner = np.full((HEIGHT // SCALE, WIDTH // SCALE), -1, np.int32)
    for vehicle, box in on_screen:
        x1, y1, x2, y2 = (round(c / SCALE) for c in box)
        owner[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)] = vehicle.id
    for x1, y1, x2, y2 in (LAMP_POST, SIGN):
        owner[y1 // SCALE : y2 // SCALE, x1 // SCALE : x2 // SCALE] = -2
    rng = noise.rng
    boxes, scores, labels, visible = [], [], [], {}
    for vehicle, box in on_screen:
        x1, y1, x2, y2 = (round(c / SCALE) for c in box)
        area = max(1, (min(x2, WIDTH // SCALE) - max(0, x1)) * (y2 - y1))
        rows, cols = np.nonzero(owner == vehicle.id)
        share = len(rows) / area
        visible[vehicle.id] = share
        if share < noise.min_visible or rng.random() < noise.miss:
            continue
        seen = np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], np.float64) * SCALE
        size = np.array([seen[2] - seen[0], seen[3] - seen[1]] * 2)
        seen += rng.normal(0, noise.jitter_px + noise.jitter_share * size)
        boxes.append(seen)
        scores.append(float(np.clip(0.35 + 0.55 * share + rng.normal(0, 0.08), 0.05, 0.99)))
        kind = vehicle.kind
        if rng.random() < noise.wrong_class:
            kind = rng.choice([k for k in SHAPES if k is not kind])
        labels.append(CLASSES.index(kind))
    if rng.random() < noise.false_boxes:
        x, y = rng.uniform(0, WIDTH - 80), rng.uniform(FAR_LANE_Y - 60, lane_y(LANES))
        boxes.append(np.array([x, y - 40, x + 70, y]))
        scores.append(float(rng.uniform(0.3, 0.65)))
        labels.append(CLASSES.index(TrafficClass.CAR))
    if not boxes:
        return Detections.empty(), visible
    return (
        Detections(np.array(boxes, np.float32), np.array(scores, np.float32), np.array(labels, np.int64)),
        visible,
    )


def counting_line() -> CountLine:
    """Vertical, across all six lanes: left-to-right traffic crosses it "forward". Tracks lost while
    hidden are stitched across it (within 28 px along the line: less than the lanes' spacing)."""
    return CountLine(
        "line",
        (float(LINE_X), lane_y(LANES) + 10),
        (float(LINE_X), lane_y(-1.5)),
        anchor="centre",
        stitch_s=4.0,
        stitch_px=28.0,
    )


def carriageways() -> tuple[Zone, Zone]:
    """The far (right-to-left) and near (left-to-right) carriageways, as zones holding where the vehicles
    stand (the bottom of their boxes)."""

    def band(top: float, bottom: float, name: str) -> Zone:
        return Zone(name, ((0.0, top), (float(WIDTH), top), (float(WIDTH), bottom), (0.0, bottom)))

    split = lane_y(2.5)
    return band(lane_y(-1.5), split, "westbound"), band(split, lane_y(LANES) + 10, "eastbound")


def wrong_way_rules() -> tuple[WrongWayRule, ...]:
    west, east = carriageways()
    return (
        WrongWayRule(west, allowed=((WIDTH, 0.0), (0.0, 0.0)), min_travel=120.0),
        WrongWayRule(east, allowed=((0.0, 0.0), (WIDTH, 0.0)), min_travel=120.0),
    )


@dataclass(frozen=True)
class DenseResult:
    seed: int
    truth: Counter[str]
    counted: Counter[str]
    incidents: tuple[Incident, ...]
    found_stopped: bool
    found_wrong_way: bool
    false_alarms: tuple[Incident, ...]
    missed: int = 0
    """Vehicles that crossed and no counted crossing was paired with."""
    extra: int = 0
    """Counted crossings paired with no vehicle that crossed that way (or with one counted already)."""

    @property
    def count_error(self) -> float:
        """|counted - truth| / truth of the total."""
        truth = sum(self.truth.values())
        return abs(sum(self.counted.values()) - truth) / truth

    @property
    def direction_error(self) -> float:
        """The worse of the two directions' relative errors."""
        return max(abs(self.counted[d] - self.truth[d]) / self.truth[d] for d in self.truth)


def run_dense(scene: DenseScene, analysis: CameraAnalysis, noise: DetectorNoise | None = None) -> DenseResult:
    """Feed the scene's simulated detections through `analysis` at the scene's frame rate; an incident
    is a true one when its box holds the expected vehicle's centre at that time. Each counted crossing
    is paired with the vehicle whose box held most of its track's box (where it was last seen), so that
    misses and extra counts show apart rather than cancel out in the total."""
    noise = noise or DetectorNoise(rng=np.random.default_rng(scene.seed))
    counted: Counter[str] = Counter()
    incidents: list[Incident] = []
    last_seen: dict[int, tuple[float, tuple[float, float, float, float]]] = {}
    paired: set[int] = set()
    extra = 0
    for index in range(math.floor(scene.duration_s * scene.fps) + 1):
        t = index / scene.fps
        detections, _ = simulated_detections(scene, t, noise)
        result = analysis.step(detections, t)
        last_seen.update({obj.track_id: (t, obj.box) for obj in result.objects})
        for crossing in result.crossings:
            counted[crossing.direction] += 1
            vehicle = _holder(scene, *last_seen[crossing.track_id])
            if vehicle is None or vehicle.id in paired or vehicle.direction != crossing.direction:
                extra += 1
            else:
                paired.add(vehicle.id)
        incidents.extend(result.incidents)
    crossed = {v.id for v in scene.vehicles if v.crosses_by(scene.duration_s)}
    extra += len(paired - crossed)
    missed = len(crossed - paired)
    expected = {IncidentKind.STOPPED_VEHICLE: scene.stopped_id, IncidentKind.WRONG_WAY: scene.wrong_way_id}
    true: list[Incident] = []
    false: list[Incident] = []
    for incident in incidents:
        vehicle = scene.vehicle(expected[incident.kind])
        centre = vehicle.x(incident.time_s)
        x1, _, x2, _ = incident.box
        (true if centre is not None and x1 - 10 <= centre <= x2 + 10 else false).append(incident)
    kinds = {incident.kind for incident in true}
    return DenseResult(
        scene.seed,
        scene.ground_truth(),
        counted,
        tuple(incidents),
        IncidentKind.STOPPED_VEHICLE in kinds,
        IncidentKind.WRONG_WAY in kinds,
        tuple(false),
        missed,
        extra,
    )


def _holder(scene: DenseScene, t: float, box: tuple[float, float, float, float]) -> Vehicle | None:
    """The vehicle whose box holds most (at least half) of `box` at time t."""
    best, best_share = None, 0.5
    area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    for vehicle in scene.vehicles:
        other = vehicle.box(t)
        if other is None:
            continue
        width = min(box[2], other[2]) - max(box[0], other[0])
        height = min(box[3], other[3]) - max(box[1], other[1])
        share = max(0.0, width) * max(0.0, height) / area
        if share > best_share:
            best, best_share = vehicle, share
    return best


def dense_analysis(**tracking: float) -> CameraAnalysis:
    """The analysis stages as a camera on this road would be set up (pixels: the scene is not calibrated)."""
    return CameraAnalysis(
        frame_rate=5.0,
        lines=(counting_line(),),
        stopped=StoppedVehicleRule(min_stopped_s=20.0, tolerance=12.0),
        wrong_way=wrong_way_rules(),
        **tracking,  # type: ignore[arg-type]
    )
