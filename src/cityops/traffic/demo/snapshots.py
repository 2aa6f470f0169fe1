"""Synthetic camera pictures for the demo's camera wall, put in the same store the snapshot endpoint
fills: each sample camera loops over its own synthetic road scene (`synthetic.py`), with the boxes,
counting line, zone and counts a worker would send. Every picture carries "SIMULATED" burnt in, and the
cameras are flagged `simulated`, which the wall shows in the reader's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from cityops.traffic.demo.synthetic import (
    LANE_WIDTH,
    SHAPES,
    Noise,
    SyntheticScene,
    background,
    noise_bank,
    random_scene,
    render,
)
from cityops.traffic.snapshots import Overlay, SnapshotStore
from cityops.traffic.video.detections import TrafficClass

SCENE_SECONDS = 16.0
# Mostly motorbikes, as on Bình Dương's roads (`random_scene` picks uniformly from this tuple).
SCENE_KINDS = (
    *(TrafficClass.MOTORBIKE,) * 6,
    TrafficClass.CAR,
    TrafficClass.CAR,
    TrafficClass.TRUCK,
    TrafficClass.BUS,
)
JPEG_QUALITY = 80
LINE_ID = "L1"
ZONE_ID = "Z1"
VIETNAM = timedelta(hours=7)


@dataclass
class SyntheticCamera:
    camera_id: str
    scene: SyntheticScene
    base: NDArray[np.uint8]
    noise: list[Noise]
    rng: np.random.Generator
    started_s: float

    @classmethod
    def create(cls, camera_id: str, seed: int, started_ms: int) -> SyntheticCamera:
        scene = random_scene(seed=seed, duration_s=SCENE_SECONDS, vehicles_per_lane=10, kinds=SCENE_KINDS)
        rng = np.random.default_rng(seed)
        return cls(
            camera_id,
            scene,
            background(scene),
            noise_bank(scene, rng, size=2),
            rng,
            started_ms / 1000 - (seed * 7.3) % scene.duration_s,
        )

    def clock(self, now_ms: int) -> tuple[int, float]:
        """How many whole loops of the scene have played since the demo started (cameras a few seconds
        apart), and the time within the current one."""
        elapsed = max(0.0, now_ms / 1000 - self.started_s)
        return int(elapsed // self.scene.duration_s), elapsed % self.scene.duration_s

    def overlay(self, now_ms: int) -> dict[str, Any]:
        scene = self.scene
        loops, t = self.clock(now_ms)
        boxes = []
        for index, vehicle in enumerate(scene.vehicles):
            x = scene.position(vehicle, t)
            if x is None:
                continue
            length, breadth = SHAPES[vehicle.kind]
            y = scene.lane_centre(vehicle.lane)
            x1, x2 = max(0.0, x - length / 2), min(float(scene.width), x + length / 2)
            if x2 - x1 < 2:
                continue
            box: dict[str, Any] = {"x1": round(x1, 1), "y1": round(y - breadth / 2, 1), "x2": round(x2, 1)}
            box |= {"y2": round(y + breadth / 2, 1), "class": str(vehicle.kind)}
            boxes.append({**box, "track": loops * len(scene.vehicles) + index})
        crossed = Counter(
            (str(vehicle.kind), "in" if vehicle.direction == "forward" else "out")
            for vehicle in scene.vehicles
            if scene.crossing_time(vehicle) < scene.duration_s
        )
        now_crossed = Counter(
            (str(vehicle.kind), "in" if vehicle.direction == "forward" else "out")
            for vehicle in scene.vehicles
            if scene.crossing_time(vehicle) <= t
        )
        counts: dict[str, dict[str, int]] = {}
        for kind, way in crossed.keys() | now_crossed.keys():
            counts.setdefault(kind, {"in": 0, "out": 0})[way] = (
                loops * crossed[kind, way] + now_crossed[kind, way]
            )
        start, end = scene.counting_line()
        top, bottom, before = float(scene.road_top), scene.road_top + 2.0 * LANE_WIDTH, scene.line_x - 140.0
        approach = [
            (before, top),
            (float(scene.line_x), top),
            (float(scene.line_x), bottom),
            (before, bottom),
        ]
        return {
            "ts": now_ms,
            "width": scene.width,
            "height": scene.height,
            "lines": [{"id": LINE_ID, "start": start, "end": end}],
            "zones": [{"id": ZONE_ID, "polygon": approach}],
            "boxes": boxes,
            "counts": {LINE_ID: counts},
        }

    def picture(self, now_ms: int) -> bytes:
        _, t = self.clock(now_ms)
        image = render(self.scene, t, self.base, self.rng, self.noise)
        local = datetime.fromtimestamp(now_ms / 1000, UTC) + VIETNAM
        stamp = f"SIMULATED  {self.camera_id}  {local:%Y-%m-%d %H:%M:%S}"
        cv2.rectangle(image, (0, 0), (330, 24), (20, 20, 20), -1)
        cv2.putText(image, stamp, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return encoded.tobytes()


class SyntheticWall:
    """One synthetic camera per sample camera id."""

    def __init__(self, camera_ids: list[str], started_ms: int) -> None:
        self.cameras = [
            SyntheticCamera.create(camera_id, seed, started_ms) for seed, camera_id in enumerate(camera_ids)
        ]

    def post(self, store: SnapshotStore, now_ms: int, skip: frozenset[str] = frozenset()) -> int:
        """Put every camera's picture and overlay in the store (the down ones in `skip` send nothing)."""
        posted = 0
        for camera in self.cameras:
            if camera.camera_id in skip:
                continue
            overlay = Overlay.model_validate(camera.overlay(now_ms))
            store.put(camera.camera_id, camera.picture(now_ms), overlay)
            posted += 1
        return posted
