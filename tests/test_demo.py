"""The demo's rules come from the domains' templates, and its scripted episodes trip them."""

from __future__ import annotations

import random
from pathlib import Path

from cityops.cli import DEMO_RULES
from cityops.core.domain import discover_domains
from cityops.core.entities import make_urn
from cityops.core.rules.definitions import AbsenceRule, DurationRule, load_rules_file
from cityops.traffic.demo import simulator as traffic
from cityops.wifi import simulator as wifi
from cityops.wifi.settings import WifiSettings


def test_demo_rules_parse_with_installed_templates() -> None:
    templates = {t.id: t for d in discover_domains() for t in d.rule_templates}
    rules = {r.id: r for r in load_rules_file(Path(DEMO_RULES), templates)}
    assert isinstance(rules["demo-congestion"], DurationRule)
    assert isinstance(rules["demo-hotspot-silent"], AbsenceRule)
    assert rules["demo-congestion"].title["vi"] == "Ùn tắc giao thông tại camera"


def test_scripted_jam_exceeds_the_congestion_threshold_only_while_it_lasts() -> None:
    templates = {t.id: t for d in discover_domains() for t in d.rule_templates}
    rule = next(r for r in load_rules_file(Path(DEMO_RULES), templates) if r.id == "demo-congestion")
    assert isinstance(rule, DurationRule)
    jam = make_urn("Camera", traffic.JAM_CAMERA)
    start = (
        1_790_000_000_000 - 1_790_000_000_000 % traffic.JAM_EVERY_MS + 3 * 3_600_000
    )  # 03:00 UTC+7 ≈ quiet
    rng = random.Random(1)

    def occupancy(now: int) -> float:
        return next(
            p["value"]
            for p in traffic.camera_points(now, rng)
            if p["entity"] == jam and p["metric"] == "occupancy"
        )

    during = [occupancy(start + s * 1000) for s in range(0, int(traffic.JAM_LASTS_MS / 1000), 30)]
    after = [occupancy(start + traffic.JAM_LASTS_MS + s * 60_000) for s in range(1, 10)]
    assert min(during) > rule.value
    assert max(after) < rule.value
    assert rule.minutes * 60_000 < traffic.JAM_LASTS_MS


def test_scripted_outage_silences_one_hotspot_longer_than_it_takes_to_be_down() -> None:
    start = 1_790_000_000_000 - 1_790_000_000_000 % wifi.OUTAGE_EVERY_MS
    silent = [
        wifi.is_silent(wifi.OUTAGE_HOTSPOT, start + s * 3000) for s in range(int(wifi.OUTAGE_LASTS_MS / 3000))
    ]
    assert all(silent)
    assert not wifi.is_silent(wifi.OUTAGE_HOTSPOT, start + wifi.OUTAGE_LASTS_MS)
    assert not any(wifi.is_silent(spot.id, start) for spot in wifi.HOTSPOTS if spot.id != wifi.OUTAGE_HOTSPOT)
    assert WifiSettings().down_after_seconds * 1000 < wifi.OUTAGE_LASTS_MS
