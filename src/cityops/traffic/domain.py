"""The traffic domain as the kernel sees it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cityops.core.domain import Domain, EntityType, EntityView, MetricSpec, Panel, ViewEntity, translated
from cityops.core.indicators import Indicator, fresh_share, latest_total
from cityops.core.rules.definitions import RuleTemplate
from cityops.traffic.commands import build_commands
from cityops.traffic.demo.simulator import sample_cameras, simulate

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fastapi import APIRouter

    from cityops.core.kernel import Kernel

FOLDER = Path(__file__).parent
# Classes counted per interval, as `count.<class>` metrics ("vehicle": moving, but not classified).
COUNTED_CLASSES = ("motorbike", "car", "bus", "truck", "bicycle", "person", "vehicle")

CAMERA = EntityType(
    type="Camera",
    title=translated(FOLDER, "camera"),
    color="#e8590c",
    metrics=(
        MetricSpec("intensity", "vehicles/min", translated(FOLDER, "metric.intensity")),
        MetricSpec("occupancy", "%", translated(FOLDER, "metric.occupancy")),
        MetricSpec("averageVehicleSpeed", "km/h", translated(FOLDER, "metric.averageVehicleSpeed")),
        *(
            MetricSpec(f"count.{name}", "vehicles", translated(FOLDER, f"metric.count.{name}"))
            for name in COUNTED_CLASSES
        ),
        MetricSpec("state", "1 up / 0 down", translated(FOLDER, "metric.state")),
        MetricSpec("congestionLevel", "0-3", translated(FOLDER, "metric.congestionLevel")),
        MetricSpec("queueVehicles", "vehicles", translated(FOLDER, "metric.queueVehicles")),
        MetricSpec("queueOverLength", "zones", translated(FOLDER, "metric.queueOverLength")),
        MetricSpec(
            "incidents.stoppedVehicle", "vehicles", translated(FOLDER, "metric.incidents.stoppedVehicle")
        ),
        MetricSpec("incidents.wrongWay", "vehicles", translated(FOLDER, "metric.incidents.wrongWay")),
    ),
)


def traffic_flows(kernel: Kernel, ids: frozenset[str] | None) -> Iterable[ViewEntity]:
    from cityops.traffic.ngsild_views import traffic_flows as newest_flows  # the video stack loads late

    return newest_flows(kernel, ids)


def router(kernel: Kernel) -> APIRouter:
    from cityops.traffic.router import build_router

    return build_router(kernel)


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
            # Working: a fresh `state` of 1 (the camera-down rule fires below 0.5).
            formula=fresh_share("Camera", "state", within_ms=5 * 60_000, at_least=0.5),
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
    router=router,
    entity_views=(EntityView("TrafficFlowObserved", traffic_flows),),
    device_paths=("/cameras/{camera_id}/snapshot",),
    panels=(Panel("cameras", "cameras.js", "panel.cameras", order=10),),
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
        RuleTemplate(
            id="traffic.camera_down",
            title=translated(FOLDER, "rule.camera_down"),
            defaults={
                "kind": "threshold",
                "entity_type": "Camera",
                "metric": "state",
                "op": "<",
                "value": 0.5,
                "severity": "high",
                "category": "infrastructure",
                "sub_category": "deviceOffline",
            },
        ),
        RuleTemplate(
            id="traffic.stopped_vehicle",
            title=translated(FOLDER, "rule.stopped_vehicle"),
            defaults={
                "kind": "threshold",
                "entity_type": "Camera",
                "metric": "incidents.stoppedVehicle",
                "op": ">",
                "value": 0.0,
                "severity": "high",
                "category": "traffic",
                "sub_category": "carStopped",
                "opens_incident": True,
            },
        ),
        RuleTemplate(
            id="traffic.wrong_way",
            title=translated(FOLDER, "rule.wrong_way"),
            defaults={
                "kind": "threshold",
                "entity_type": "Camera",
                "metric": "incidents.wrongWay",
                "op": ">",
                "value": 0.0,
                "severity": "high",
                "category": "traffic",
                "sub_category": "carWrongDirection",
                "opens_incident": True,
            },
        ),
        RuleTemplate(
            id="traffic.queue_over_length",
            title=translated(FOLDER, "rule.queue_over_length"),
            defaults={
                "kind": "threshold",
                "entity_type": "Camera",
                "metric": "queueOverLength",
                "op": ">",
                "value": 0.0,
                "severity": "medium",
                "category": "traffic",
                "sub_category": "trafficJam",
            },
        ),
    ),
)
