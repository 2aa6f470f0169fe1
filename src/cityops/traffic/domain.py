"""The traffic domain as the kernel sees it."""

from __future__ import annotations

from pathlib import Path

from cityops.core.domain import Domain, EntityType, MetricSpec, translated
from cityops.core.indicators import Indicator, fresh_share, latest_total
from cityops.core.rules import RuleTemplate
from cityops.traffic.commands import build_commands
from cityops.traffic.simulator import sample_cameras, simulate

FOLDER = Path(__file__).parent

CAMERA = EntityType(
    type="Camera",
    title=translated(FOLDER, "camera"),
    color="#e8590c",
    metrics=(
        MetricSpec("intensity", "vehicles/min", translated(FOLDER, "metric.intensity")),
        MetricSpec("occupancy", "%", translated(FOLDER, "metric.occupancy")),
        MetricSpec("averageVehicleSpeed", "km/h", translated(FOLDER, "metric.averageVehicleSpeed")),
    ),
)

DOMAIN = Domain(
    name="traffic",
    folder=FOLDER,
    entity_types=(CAMERA,),
    indicators=(
        Indicator(
            id="traffic.cameras_online",
            title=translated(FOLDER, "indicator.cameras_online"),
            unit="%",
            direction="higher",
            target=95.0,
            formula=fresh_share("Camera", "intensity", within_ms=5 * 60_000),
        ),
        Indicator(
            id="traffic.vehicle_flow",
            title=translated(FOLDER, "indicator.vehicle_flow"),
            unit="vehicles/min",
            direction="higher",
            formula=latest_total("Camera", "intensity", within_ms=5 * 60_000),
        ),
    ),
    sample_entities=sample_cameras,
    simulator=simulate,
    commands=build_commands,
    rule_templates=(
        RuleTemplate(
            id="traffic.congestion",
            title=translated(FOLDER, "rule.congestion"),
            defaults={
                "kind": "duration",
                "entity_type": "Camera",
                "metric": "occupancy",
                "op": ">",
                "value": 80.0,
                "minutes": 2,
                "severity": "high",
                "category": "traffic",
                "sub_category": "trafficJam",
                "opens_incident": True,
            },
        ),
        RuleTemplate(
            id="traffic.camera_silent",
            title=translated(FOLDER, "rule.camera_silent"),
            defaults={
                "kind": "absence",
                "entity_type": "Camera",
                "minutes": 5,
                "severity": "medium",
                "category": "infrastructure",
                "sub_category": "deviceOffline",
            },
        ),
    ),
)
