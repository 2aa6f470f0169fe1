"""Simulated public wifi access points for the demo (the dashboard labels the data as simulated).

Hotspots are scattered, with a fixed seed, around public places of the former Bình Dương province.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from cityops.core.domain import SampleEntity
from cityops.core.entities import make_urn
from cityops.core.kernel import Kernel
from cityops.core.simulation import run_simulation

PLACES = (
    ("Công viên Thủ Dầu Một", 106.6560, 10.9800),
    ("Chợ Thủ Dầu Một", 106.6530, 10.9790),
    ("Trung tâm Hành chính tập trung", 106.6730, 11.0560),
    ("Chợ Lái Thiêu, Thuận An", 106.7010, 10.9060),
    ("Trung tâm Dĩ An", 106.7690, 10.9070),
    ("Trung tâm Bến Cát", 106.5960, 11.1500),
    ("Trung tâm Tân Uyên", 106.7970, 11.0620),
    ("Thị trấn Phước Vĩnh, Phú Giáo", 106.7960, 11.2920),
    ("Thị trấn Dầu Tiếng", 106.3640, 11.2780),
)
HOTSPOTS_PER_PLACE = 3
# A scripted outage so the demo shows a "hotspot down" alert: one hotspot is silent 4 minutes in 15.
OUTAGE_HOTSPOT = "ap-05-2"
OUTAGE_EVERY_MS = 15 * 60_000
OUTAGE_LASTS_MS = 4 * 60_000


def _hotspots() -> list[tuple[str, str, float, float]]:
    rng = random.Random(2021)
    hotspots = []
    for place_index, (place, lon, lat) in enumerate(PLACES):
        for n in range(HOTSPOTS_PER_PLACE):
            hotspot_id = f"ap-{place_index:02d}-{n}"
            hotspots.append(
                (
                    hotspot_id,
                    f"{place} #{n + 1}",
                    lon + rng.uniform(-0.006, 0.006),
                    lat + rng.uniform(-0.006, 0.006),
                )
            )
    return hotspots


HOTSPOTS = _hotspots()


def sample_access_points() -> Iterator[tuple[str, SampleEntity]]:
    for hotspot_id, name, lon, lat in HOTSPOTS:
        yield "AccessPoint", SampleEntity(hotspot_id, name, lon, lat, {"simulated": True, "tenant": "public"})


def access_point_points(now_ms: int, rng: random.Random) -> list[dict[str, Any]]:
    points = []
    for hotspot_id, _name, _lon, _lat in HOTSPOTS:
        if rng.random() < 0.01:  # now and then a hotspot misses a report, as real ones do
            continue
        if hotspot_id == OUTAGE_HOTSPOT and now_ms % OUTAGE_EVERY_MS < OUTAGE_LASTS_MS:
            continue
        urn = make_urn("AccessPoint", hotspot_id)
        users = max(0, round(rng.gauss(35, 12)))
        for metric, value in (
            ("up", 1.0),
            ("activeUsers", float(users)),
            ("trafficMB", users * rng.uniform(0.5, 3)),
        ):
            points.append({"entity": urn, "metric": metric, "time": now_ms, "value": round(value, 2)})
    return points


async def simulate(kernel: Kernel) -> None:
    await run_simulation(kernel, access_point_points, interval_s=3.0, seed=11)
