"""The economy domain as the kernel sees it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cityops.core.domain import BriefingSection, Domain, EntityType, Panel, translated
from cityops.economy.ngsild_views import VIEWS
from cityops.economy.parks import PARK_TYPE, sample_parks

if TYPE_CHECKING:
    from fastapi import APIRouter

    from cityops.core.kernel import Kernel

FOLDER = Path(__file__).parent


def router(kernel: Kernel) -> APIRouter:
    from cityops.economy.router import build_router

    return build_router(kernel)


async def simulate(kernel: Kernel) -> None:
    from cityops.economy.demo import simulate as load_demo

    await load_demo(kernel)


def briefing(kernel: Kernel, year: int, month: int, lang: str) -> Sequence[BriefingSection]:
    from cityops.economy.briefing import sections

    return sections(kernel, year, month, lang)


def setup(kernel: Kernel) -> None:
    from cityops.economy.setup import load_reference

    load_reference(kernel)


INDUSTRIAL_PARK = EntityType(
    type=PARK_TYPE, title=translated(FOLDER, "industrial_park"), color="#7048e8", metrics=()
)

DOMAIN = Domain(
    name="economy",
    folder=FOLDER,
    entity_types=(INDUSTRIAL_PARK,),
    router=router,
    setup=setup,
    simulator=simulate,
    briefing=briefing,
    sample_entities=sample_parks,
    entity_views=VIEWS,
    panels=(Panel("economy", "panel.js", "panel.tab", order=40),),
)
