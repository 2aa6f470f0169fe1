"""Industrial parks on the map. Their locations are **approximate** (a point near the middle of each
park, placed by hand from public maps, not surveyed) and every one says so in its attributes."""

from __future__ import annotations

from collections.abc import Iterator

from cityops.core.domain import SampleEntity

PARK_TYPE = "IndustrialPark"

# id, name, lon, lat
PARKS = (
    ("vsip-1", "KCN Việt Nam – Singapore (VSIP I)", 106.7139, 10.9316),
    ("vsip-2", "KCN Việt Nam – Singapore II (VSIP II)", 106.6867, 11.0683),
    ("my-phuoc-3", "KCN Mỹ Phước 3", 106.6019, 11.1197),
    ("bau-bang", "KCN Bàu Bàng", 106.6325, 11.2622),
    ("song-than-2", "KCN Sóng Thần 2", 106.7500, 10.9083),
    ("dong-an", "KCN Đồng An", 106.7094, 10.9578),
)
PARK_IDS = frozenset(park_id for park_id, *_ in PARKS)


def sample_parks() -> Iterator[tuple[str, SampleEntity]]:
    for park_id, name, lon, lat in PARKS:
        yield PARK_TYPE, SampleEntity(park_id, name, lon, lat, {"approximate_location": True})
