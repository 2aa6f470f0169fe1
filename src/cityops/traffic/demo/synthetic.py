"""Test videos with known ground truth: coloured vehicle shapes of known classes crossing a counting line.

Seen from above, a horizontal road has lanes going right (direction "forward") and lanes going left
("backward"); the counting line is vertical at `line_x`. A tree canopy hides part of the near lanes
(occlusion), the whole picture shakes by a pixel or two (camera jitter), vehicles wander a little
sideways, and sensor noise is added. Written with PyAV (H.264) so the real decoding path is exercised.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from cityops.traffic.video.detections import TrafficClass
from cityops.traffic.video.motion import SizeBand

# Length x width in pixels at 640x360, chosen so the classes stay apart by size alone.
SHAPES: dict[TrafficClass, tuple[int, int]] = {
    TrafficClass.MOTORBIKE: (26, 12),
    TrafficClass.CAR: (60, 26),
    TrafficClass.TRUCK: (100, 32),
    TrafficClass.BUS: (150, 36),
}
ROAD_GREY = 92
LANE_WIDTH = 52
WIDTH, HEIGHT = 640, 360
Noise = tuple[NDArray[np.uint8], NDArray[np.uint8]]


@dataclass(frozen=True)
class SyntheticVehicle:
    kind: TrafficClass
    lane: int
    enter_s: float
    speed_px_s: float
    colour: tuple[int, int, int]

    @property
    def direction(self) -> str:
        return "forward" if self.lane < 2 else "backward"


@dataclass(frozen=True)
class SyntheticScene:
    vehicles: tuple[SyntheticVehicle, ...]
    width: int = WIDTH
    height: int = HEIGHT
    fps: int = 25
    duration_s: float = 20.0
    line_x: int = 400
    jitter_px: int = 1
    noise_sigma: float = 2.0
    occluder: tuple[int, int, int, int] | None = (150, 70, 190, 190)
    """x1, y1, x2, y2 of a tree canopy drawn above the vehicles."""
    seed: int = 0
    road_top: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "road_top", (self.height - 4 * LANE_WIDTH) // 2)

    def lane_centre(self, lane: int) -> float:
        return self.road_top + (lane + 0.5) * LANE_WIDTH

    def position(self, vehicle: SyntheticVehicle, t: float) -> float | None:
        """Centre x at time t, or None when the vehicle is not on screen."""
        if t < vehicle.enter_s:
            return None
        length = SHAPES[vehicle.kind][0]
        travelled = (t - vehicle.enter_s) * vehicle.speed_px_s - length / 2
        x = travelled if vehicle.lane < 2 else self.width - travelled
        return x if -length < x < self.width + length else None

    def crossing_time(self, vehicle: SyntheticVehicle) -> float:
        length = SHAPES[vehicle.kind][0]
        distance = self.line_x if vehicle.lane < 2 else self.width - self.line_x
        return vehicle.enter_s + (distance + length / 2) / vehicle.speed_px_s

    def ground_truth(self) -> Counter[tuple[TrafficClass, str]]:
        """How many vehicles of each class cross the line in each direction while the video runs."""
        return Counter(
            (vehicle.kind, vehicle.direction)
            for vehicle in self.vehicles
            if self.crossing_time(vehicle) < self.duration_s
        )

    def counting_line(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The line's two ends, drawn so that "forward" traffic crosses it from its left to its right."""
        return (float(self.line_x), float(self.road_top + 4 * LANE_WIDTH)), (
            float(self.line_x),
            float(self.road_top),
        )


def random_scene(
    *,
    seed: int = 0,
    duration_s: float = 20.0,
    vehicles_per_lane: int = 8,
    kinds: tuple[TrafficClass, ...] = tuple(SHAPES),
    fps: int = 25,
) -> SyntheticScene:
    """A scene whose vehicles never overlap in a lane and all finish crossing the line before the end."""
    rng = random.Random(seed)
    vehicles = []
    width = WIDTH
    for lane in range(4):
        speed = rng.uniform(90, 160)
        clock = rng.uniform(0.3, 1.5)
        for _ in range(vehicles_per_lane):
            kind = rng.choice(kinds)
            colour = _vivid(rng)
            vehicle = SyntheticVehicle(kind, lane, round(clock, 3), speed, colour)
            if clock + (width + SHAPES[kind][0]) / speed > duration_s - 0.5:
                break
            vehicles.append(vehicle)
            clock += (SHAPES[kind][0] + rng.uniform(45, 160)) / speed
    return SyntheticScene(tuple(vehicles), fps=fps, duration_s=duration_s, seed=seed)


def _vivid(rng: random.Random) -> tuple[int, int, int]:
    """A colour whose brightness stands out from the road's, as a camera's grey picture needs."""
    while True:
        blue, green, red = (rng.randrange(256) for _ in range(3))
        if abs(0.114 * blue + 0.587 * green + 0.299 * red - ROAD_GREY) > 45:
            return blue, green, red


def background(scene: SyntheticScene) -> NDArray[np.uint8]:
    image = np.full((scene.height, scene.width, 3), (70, 120, 80), np.uint8)  # verges
    top, bottom = scene.road_top, scene.road_top + 4 * LANE_WIDTH
    image[top:bottom] = ROAD_GREY
    image[top + 2 * LANE_WIDTH - 2 : top + 2 * LANE_WIDTH + 2] = (40, 200, 230)  # centre line
    for lane in (1, 3):
        y = top + lane * LANE_WIDTH
        for x in range(0, scene.width, 40):
            image[y - 1 : y + 1, x : x + 20] = 230
    return image


def render(
    scene: SyntheticScene,
    t: float,
    base: NDArray[np.uint8],
    rng: np.random.Generator,
    noise: list[Noise] | None = None,
) -> NDArray[np.uint8]:
    image = base.copy()
    for vehicle in scene.vehicles:
        x = scene.position(vehicle, t)
        if x is None:
            continue
        length, breadth = SHAPES[vehicle.kind]
        y = scene.lane_centre(vehicle.lane) + rng.uniform(-1.0, 1.0)
        x1, x2 = max(0, round(x - length / 2)), min(scene.width, round(x + length / 2))
        y1, y2 = round(y - breadth / 2), round(y + breadth / 2)
        if x2 > x1:
            image[y1:y2, x1:x2] = vehicle.colour
            image[y1 + 3 : y2 - 3, x1 + length // 4 : x1 + length // 3] = 30  # windscreen
    if scene.occluder is not None:
        ox1, oy1, ox2, oy2 = scene.occluder
        image[oy1:oy2, ox1:ox2] = (40, 110, 50)
    if scene.jitter_px:
        dx, dy = rng.integers(-scene.jitter_px, scene.jitter_px + 1, size=2)
        image = np.asarray(np.roll(image, (int(dy), int(dx)), axis=(0, 1)), np.uint8)
    if noise:
        plus, minus = noise[int(rng.integers(len(noise)))]
        image = np.asarray(cv2.subtract(cv2.add(image, plus), minus), np.uint8)
    return image


def noise_bank(scene: SyntheticScene, rng: np.random.Generator, size: int = 8) -> list[Noise]:
    """Pre-drawn sensor noise as (add, subtract) pairs, since drawing it for every frame is slow."""
    if not scene.noise_sigma:
        return []
    bank = []
    for _ in range(size):
        noise = np.rint(rng.normal(0, scene.noise_sigma, (scene.height, scene.width, 3)))
        bank.append((np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8)))
    return bank


def write_video(scene: SyntheticScene, path: Path, *, codec: str = "libx264") -> Path:
    """Render the scene to `path` (container chosen by its suffix) and return the path."""
    rng = np.random.default_rng(scene.seed)
    base = background(scene)
    noise = noise_bank(scene, rng)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=scene.fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "20", "g": str(scene.fps)}
        for index in range(round(scene.duration_s * scene.fps)):
            image = render(scene, index / scene.fps, base, rng, noise)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def size_bands() -> tuple[SizeBand, ...]:
    """Blob-area bands that tell this generator's classes apart (boundaries halfway between sizes)."""
    ordered = sorted(SHAPES.items(), key=lambda item: item[1][0] * item[1][1])
    areas = [length * width for _, (length, width) in ordered]
    limits = [(a + b) / 2 for a, b in pairwise(areas)] + [float("inf")]
    return tuple(SizeBand(limit, kind) for (kind, _), limit in zip(ordered, limits, strict=True))
