"""The wifi domain as the kernel sees it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cityops.core.domain import Domain, EntityType, MetricSpec, Panel, translated
from cityops.core.indicators import Indicator
from cityops.core.rules.definitions import RuleTemplate
from cityops.wifi import indicators
from cityops.wifi.commands import build_commands
from cityops.wifi.runtime import open_runtime, stop_runtime
from cityops.wifi.simulator import sample_access_points, simulate

if TYPE_CHECKING:
    from fastapi import APIRouter

    from cityops.core.kernel import Kernel

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


def router(kernel: Kernel) -> APIRouter:
    from cityops.wifi.router import build_router

    return build_router(kernel)


DOMAIN = Domain(
    name="wifi",
    folder=FOLDER,
    router=router,
    setup=open_runtime,
    stop=stop_runtime,
    commands=build_commands,
    # FreeRADIUS and the devices authenticate themselves there (radius_routes.py, router.py); the captive
    # portal is for anyone (portal_routes.py).
    public_paths=("/radius/", "/devices/", "/portal/"),
    scoped_officers=True,
    panels=(Panel("hotspots", "hotspots.js", "panel.hotspots", order=40),),
    entity_types=(ACCESS_POINT,),
    indicators=(
        Indicator(
            id="wifi.access_points_up",
            title=translated(FOLDER, "indicator.access_points_up"),
            unit="%",
            direction="higher",
            target=98.0,
            tolerance=0.03,
            formula=indicators.hotspots_up,
        ),
        Indicator(
            id="wifi.active_users",
            title=translated(FOLDER, "indicator.active_users"),
            unit="users",
            direction="higher",
            formula=indicators.users_now,
        ),
        Indicator(
            id="wifi.sessions_today",
            title=translated(FOLDER, "indicator.sessions_today"),
            unit="sessions",
            direction="higher",
            formula=indicators.today("sessions"),
        ),
        Indicator(
            id="wifi.devices_today",
            title=translated(FOLDER, "indicator.devices_today"),
            unit="devices",
            direction="higher",
            formula=indicators.today("devices"),
        ),
        Indicator(
            id="wifi.data_today",
            title=translated(FOLDER, "indicator.data_today"),
            unit="GB",
            direction="higher",
            formula=indicators.today("gigabytes"),
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
