"""Simulated cameras for the demo (the dashboard labels the data as simulated).

Camera positions are at well-known junctions of the former Bình Dương province, placed by hand from
public maps to within a few hundred metres; flows follow a two-peak working-day curve, mostly motorbikes.
Each camera sends what a worker would: flow, occupancy, speed, counts per class, its state (1 up, 0 down),
and every few seconds a synthetic picture with its overlay for the camera wall.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import anyio.to_thread

from cityops.core.domain import SampleEntity
from cityops.core.entities import make_urn
from cityops.core.ingest import IngestError, validate_points
from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)

JUNCTIONS = (
    ("tdm-001", "Ngã tư Chợ Đình, Thủ Dầu Một", 106.6603, 10.9925),
    ("tdm-002", "Đại lộ Bình Dương – Ngã tư Phú Văn, Thủ Dầu Một", 106.6760, 11.0050),
    ("tdm-003", "Vòng xoay Becamex Tower, Thủ Dầu Một", 106.6710, 10.9770),
    ("ta-001", "Vòng xoay An Phú, Thuận An", 106.7420, 10.9480),
    ("ta-002", "Ngã tư Hòa Lân, Thuận An", 106.7050, 10.9300),
    ("da-001", "Ngã tư 550, Dĩ An", 106.7570, 10.9060),
    ("da-002", "Ngã ba Tân Vạn, Dĩ An", 106.8050, 10.9130),
    ("bc-001", "Ngã tư Sở Sao, Tân Uyên", 106.6700, 11.0330),
    ("bc-002", "Thị xã Mỹ Phước, Bến Cát", 106.5960, 11.1530),
    ("tu-001", "Trung tâm Tân Uyên", 106.7970, 11.0650),
    ("hc-001", "Trung tâm Hành chính tập trung, Thành phố mới", 106.6730, 11.0560),
    ("bb-001", "Quốc lộ 13, Bàu Bàng", 106.6340, 11.2650),
)

VIETNAM_HOURS = 7.0
# A scripted jam so the demo shows an alert being raised and cleared: Vòng xoay An Phú saturates for
# 6 minutes in every 20.
JAM_CAMERA = "ta-001"
JAM_EVERY_MS = 20 * 60_000
JAM_LASTS_MS = 6 * 60_000
# A scripted outage so the wall shows a lost signal: Bàu Bàng's camera is down 4 minutes in every 15.
OUTAGE_CAMERA = "bb-001"
OUTAGE_EVERY_MS = 15 * 60_000
OUTAGE_LASTS_MS = 4 * 60_000
INTERVAL_S = 2.0
SNAPSHOT_EVERY_MS = 4_000
# Shares of the flow by class at Bình Dương junctions: mostly motorbikes (assumed, for the demo only).
CLASS_SHARES = (
    ("motorbike", 0.78),
    ("car", 0.13),
    ("truck", 0.045),
    ("bus", 0.015),
    ("bicycle", 0.02),
    ("person", 0.01),
)


def sample_cameras() -> Iterator[tuple[str, SampleEntity]]:
    for camera_id, name, lon, lat in JUNCTIONS:
        attrs = {"simulated": True, "cameraUsage": "TRAFFIC", "streamURL": None}
        yield "Camera", SampleEntity(camera_id, name, lon, lat, attrs)


def rush_factor(now_ms: int) -> float:
    """Relative traffic by local hour: peaks around 07:00 and 17:30, quiet at night."""
    hour = (now_ms / 3_600_000 + VIETNAM_HOURS) % 24
    morning = math.exp(-(((hour - 7.0) / 1.3) ** 2))
    evening = math.exp(-(((hour - 17.5) / 1.6) ** 2))
    return 0.15 + 0.6 * morning + 0.7 * evening + 0.25 * math.exp(-(((hour - 12.0) / 3.0) ** 2))


def camera_down(camera_id: str, now_ms: int) -> bool:
    return camera_id == OUTAGE_CAMERA and now_ms % OUTAGE_EVERY_MS < OUTAGE_LASTS_MS


def _stochastic_round(value: float, rng: random.Random) -> int:
    whole = math.floor(value)
    return whole + (1 if rng.random() < value - whole else 0)


def camera_points(now_ms: int, rng: random.Random, interval_s: float = INTERVAL_S) -> list[dict[str, Any]]:
    """One interval's points for every camera; counts are vehicles seen during `interval_s`."""
    points = []
    factor = rush_factor(now_ms)
    for index, (camera_id, _name, _lon, _lat) in enumerate(JUNCTIONS):
        urn = make_urn("Camera", camera_id)
        if camera_down(camera_id, now_ms):
            points.append({"entity": urn, "metric": "state", "time": now_ms, "value": 0.0})
            continue
        capacity = 120 + 25 * (index % 4)
        flow = max(0.0, rng.gauss(capacity * factor, capacity * 0.08))
        occupancy = min(100.0, 100.0 * flow / (capacity * 1.2) + rng.uniform(-3, 3))
        if camera_id == JAM_CAMERA and now_ms % JAM_EVERY_MS < JAM_LASTS_MS:
            flow *= 0.4  # few vehicles get through a jammed roundabout
            occupancy = rng.uniform(88, 97)
        speed = max(5.0, 45.0 * (1 - occupancy / 130) + rng.uniform(-2, 2))
        values = [
            ("intensity", round(flow, 1)),
            ("occupancy", round(max(0.0, occupancy), 1)),
            ("averageVehicleSpeed", round(speed, 1)),
            ("state", 1.0),
        ]
        values += [
            (f"count.{name}", float(_stochastic_round(flow * share * interval_s / 60, rng)))
            for name, share in CLASS_SHARES
        ]
        points += [
            {"entity": urn, "metric": metric, "time": now_ms, "value": value} for metric, value in values
        ]
    return points


async def simulate(kernel: Kernel) -> None:
    """Points every `INTERVAL_S`, one batch per camera (the live feed's sample of a batch is bounded, so
    every camera's newest values reach the dashboard), and pictures every `SNAPSHOT_EVERY_MS`."""
    from cityops.traffic.demo.snapshots import SyntheticWall
    from cityops.traffic.router import snapshot_store

    rng = random.Random(7)
    wall = SyntheticWall([camera_id for camera_id, *_ in JUNCTIONS], kernel.now_ms())
    store = snapshot_store(kernel)
    pictures_at = 0
    while True:
        now = kernel.now_ms()
        by_camera: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for point in camera_points(now, rng):
            by_camera[point["entity"]].append(point)
        for points in by_camera.values():
            try:
                await kernel.record(
                    validate_points(points, kernel.registry, now, 100_000), source="simulator"
                )
            except IngestError:
                log.exception("simulator produced invalid points")
        if now - pictures_at >= SNAPSHOT_EVERY_MS:
            pictures_at = now
            down = frozenset(camera_id for camera_id, *_ in JUNCTIONS if camera_down(camera_id, now))
            try:
                await anyio.to_thread.run_sync(wall.post, store, now, down)
            except (OSError, ValueError):
                log.exception("simulator could not store its pictures")
        await asyncio.sleep(INTERVAL_S)
