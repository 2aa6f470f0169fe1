"""The citizens' reports domain as the kernel sees it."""

from __future__ import annotations

from pathlib import Path

from cityops.core.domain import Domain, Panel
from cityops.reports.opendata import REPORTS
from cityops.reports.router import PUBLIC, build_router
from cityops.reports.simulator import simulate

DOMAIN = Domain(
    name="reports",
    folder=Path(__file__).parent,
    router=build_router,
    public_paths=(f"{PUBLIC}/",),
    scoped_officers=True,
    simulator=simulate,
    panels=(Panel("moderation", "moderation.js", "panel.moderation", order=30),),
    datasets=(REPORTS,),
)
