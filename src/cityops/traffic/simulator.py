"""Simulated cameras for the demo (the dashboard labels the data as simulated).

Camera positions are at well-known junctions of the former Bình Dương province, placed by hand from
public maps to within a few hundred metres; flows follow a two-peak working-day curve, mostly motorbikes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from cityops.core.domain import SampleEntity
from cityops.core.entities import make_urn
from cityops.core.kernel import Kernel
from cityops.core.simulation import run_simulation

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


def camera_points(now_ms: int, rng: random.Random) -> list[dict[str, Any]]:
    points = []
    factor = rush_factor(now_ms)
    for index, (camera_id, _name, _lon, _lat) in enumerate(JUNCTIONS):
        urn = make_urn("Camera", camera_id)
        capacity = 120 + 25 * (index % 4)
        flow = max(0.0, rng.gauss(capacity * factor, capacity * 0.08))
        occupancy = min(100.0, 100.0 * flow / (capacity * 1.2) + rng.uniform(-3, 3))
        if camera_id == JAM_CAMERA and now_ms % JAM_EVERY_MS < JAM_LASTS_MS:
            flow *= 0.4  # few vehicles get through a jammed roundabout
            occupancy = rng.uniform(88, 97)
        speed = max(5.0, 45.0 * (1 - occupancy / 130) + rng.uniform(-2, 2))
        for metric, value in (
            ("intensity", flow),
            ("occupancy", max(0.0, occupancy)),
            ("averageVehicleSpeed", speed),
        ):
            points.append({"entity": urn, "metric": metric, "time": now_ms, "value": round(value, 1)})
    return points


async def simulate(kernel: Kernel) -> None:
    await run_simulation(kernel, camera_points, interval_s=2.0, seed=7)
