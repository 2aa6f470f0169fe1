"""The citizens' reports domain as the kernel sees it."""

from __future__ import annotations

from pathlib import Path

from cityops.core.domain import AgencyName, Domain, Panel
from cityops.reports.ngsild_views import VIEWS
from cityops.reports.opendata import REPORTS
from cityops.reports.router import PUBLIC, build_router
from cityops.reports.routing import RoutingTable
from cityops.reports.settings import ReportSettings
from cityops.reports.simulator import simulate


def agencies() -> list[AgencyName]:
    """The agencies the routing table names (`CITYOPS_REPORTS_ROUTING` or the shipped table)."""
    table = RoutingTable.load(ReportSettings().routing)
    return [AgencyName(a.code, {"vi": a.vi, "en": a.en, "ja": a.ja}) for a in table.agencies]


DOMAIN = Domain(
    name="reports",
    folder=Path(__file__).parent,
    router=build_router,
    public_paths=(f"{PUBLIC}/",),
    scoped_officers=True,
    simulator=simulate,
    panels=(Panel("moderation", "moderation.js", "panel.moderation", order=30),),
    datasets=(REPORTS,),
    agencies=agencies,
    entity_views=VIEWS,
)
