"""The wifi domain as the kernel sees it."""

from __future__ import annotations

from pathlib import Path

from cityops.core.domain import Domain, EntityType, MetricSpec, translated
from cityops.core.indicators import Indicator, fresh_share, latest_total
from cityops.core.rules.definitions import RuleTemplate
from cityops.wifi.simulator import sample_access_points, simulate

FOLDER = Path(__file__).parent

ACCESS_POINT = EntityType(
    type="AccessPoint",
    title=translated(FOLDER, "access_point"),
    color="#1c7ed6",
    metrics=(
        MetricSpec("activeUsers", "users", translated(FOLDER, "metric.activeUsers")),
        MetricSpec("up", "bool", translated(FOLDER, "metric.up")),
        MetricSpec("trafficMB", "MB", translated(FOLDER, "metric.trafficMB")),
    ),
)

DOMAIN = Domain(
    name="wifi",
    folder=FOLDER,
    entity_types=(ACCESS_POINT,),
    indicators=(
        Indicator(
            id="wifi.access_points_up",
            title=translated(FOLDER, "indicator.access_points_up"),
            unit="%",
            direction="higher",
            target=98.0,
            tolerance=0.03,
            formula=fresh_share("AccessPoint", "up", within_ms=5 * 60_000, at_least=0.5),
        ),
        Indicator(
            id="wifi.active_users",
            title=translated(FOLDER, "indicator.active_users"),
            unit="users",
            direction="higher",
            formula=latest_total("AccessPoint", "activeUsers", within_ms=5 * 60_000),
        ),
    ),
    sample_entities=sample_access_points,
    simulator=simulate,
    rule_templates=(
        RuleTemplate(
            id="wifi.hotspot_silent",
            title=translated(FOLDER, "rule.hotspot_silent"),
            defaults={
                "kind": "absence",
                "entity_type": "AccessPoint",
                "metric": "up",
                "minutes": 2,
                "severity": "medium",
                "category": "infrastructure",
                "sub_category": "deviceOffline",
            },
        ),
    ),
)
