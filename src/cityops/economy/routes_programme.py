"""`/api/economy` routes of investment projects and of the smart-city programme (portfolio, rollout,
pilot comparison)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from cityops.core.indicators import Inputs
from cityops.core.schema import areas
from cityops.core.store import write_transaction
from cityops.core.text_limits import Key
from cityops.economy import comparison, investment, panel_data, programme
from cityops.economy.comparison import VN
from cityops.economy.did import ComparisonError, Locality, difference_in_differences
from cityops.economy.routes_series import actor_of, field_error, language

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

MAX_PROJECTS = 1_000


def programme_router(kernel: Kernel) -> APIRouter:
    router = APIRouter()
    engine = kernel.engine
    indicator_ids = {i.id for i in kernel.indicators}

    @router.post("/projects", status_code=201, summary="Add investment projects (all or nothing)")
    async def post_projects(request: Request, items: list[investment.ProjectIn]) -> dict[str, Any]:
        if len(items) > MAX_PROJECTS:
            raise field_error(413, "body", f"at most {MAX_PROJECTS} projects a request", "body")
        await _check_areas([i.area_code for i in items], "area_code")

        def add() -> list[int]:
            with write_transaction(engine) as conn:
                return investment.add(conn, items, actor_of(request))

        return {"ids": await anyio.to_thread.run_sync(add)}

    @router.get("/projects", summary="Investment projects, largest registered capital first")
    async def get_projects(
        country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with engine.connect() as conn:
                return investment.listed(conn, country, limit)

        return await anyio.to_thread.run_sync(read)

    @router.get("/rankings", summary="Projects and capital by country, sector, industrial park or area")
    async def get_ranking(
        by: Literal["country", "sector", "park", "area"], lang: Key = "vi"
    ) -> dict[str, Any]:
        chosen = language(lang)

        def read() -> dict[str, Any]:
            with engine.connect() as conn:
                return {
                    "by": by,
                    "ranking": investment.ranking(conn, by, chosen),
                    "published": investment.published_countries(conn, chosen) if by == "country" else [],
                }

        return await anyio.to_thread.run_sync(read)

    @router.put("/programme/projects", summary="Add or replace programme projects with their milestones")
    async def put_programme(request: Request, items: list[programme.ProgrammeProjectIn]) -> dict[str, Any]:
        for position, item in enumerate(items):
            unknown = sorted(set(item.indicators) - indicator_ids)
            if unknown:
                raise field_error(
                    422,
                    f"[{position}].indicators",
                    f"unknown indicator(s) {unknown}; see GET /api/indicators",
                    "body",
                )

        def put() -> None:
            with write_transaction(engine) as conn:
                for item in items:
                    programme.put_project(conn, item, actor_of(request))

        await anyio.to_thread.run_sync(put)
        return {"stored": len(items)}

    @router.get("/programme", summary="The programme: projects, milestones (late ones marked), indicators")
    async def get_programme(today: date | None = None) -> dict[str, Any]:
        chosen_day = today or datetime.now(VN).date()

        def read() -> dict[str, Any]:
            with engine.connect() as conn:
                found = programme.portfolio(conn, chosen_day)
                linked = {i for p in found for i in p["indicators"]}
                now = kernel.now_ms()
                values = {
                    i.id: {"value": value, "unit": i.unit, "title": i.title, "status": i.status(value)}
                    for i in kernel.indicators
                    if i.id in linked
                    for value in [i.formula(Inputs(conn, now, kernel.states))]
                }
                return {
                    "today": chosen_day.isoformat(),
                    "projects": found,
                    "indicators": values,
                    "localities": programme.localities(conn),
                }

        return await anyio.to_thread.run_sync(read)

    @router.get("/panel", summary="What the dashboard panel shows: series, rankings, programme board")
    async def get_panel(
        year: Annotated[int | None, Query(ge=1900, le=2199)] = None,
        through: Annotated[int, Query(ge=1, le=12)] = 12,
        today: date | None = None,
    ) -> dict[str, Any]:
        chosen_day = today or datetime.now(VN).date()

        def read() -> dict[str, Any]:
            with engine.connect() as conn:
                return panel_data.panel(conn, year or chosen_day.year, through, chosen_day)

        return await anyio.to_thread.run_sync(read)

    @router.put("/programme/rollout", summary="Replace the pilot localities (wave 0) and rollout waves")
    async def put_rollout(request: Request, items: list[programme.RolloutIn]) -> dict[str, Any]:
        await _check_areas([i.area_code for i in items], "area_code")
        twice = sorted({i.area_code for i in items if sum(j.area_code == i.area_code for j in items) > 1})
        if twice:
            raise field_error(422, "area_code", f"area(s) {twice} given more than once", "body")

        def put() -> None:
            with write_transaction(engine) as conn:
                programme.put_rollout(conn, items, actor_of(request))

        await anyio.to_thread.run_sync(put)
        return {"stored": len(items)}

    @router.get(
        "/programme/comparison",
        summary="Pilot against non-pilot localities before and after: difference in differences with a "
        "bootstrap interval",
    )
    async def get_comparison(
        entity_type: Key, metric: Key, since: date, change: date, until: date
    ) -> dict[str, Any]:
        if not since < change < until:
            raise field_error(422, "change", "since < change < until is required")

        def read() -> list[Locality]:
            with engine.connect() as conn:
                return comparison.localities(conn, entity_type, metric, since, change, until)

        found = await anyio.to_thread.run_sync(read)
        try:
            estimate = difference_in_differences(found)
        except ComparisonError as error:
            raise field_error(422, "localities", str(error)) from None
        return {
            "entity_type": entity_type,
            "metric": metric,
            "since": since.isoformat(),
            "change": change.isoformat(),
            "until": until.isoformat(),
            "estimate": asdict(estimate),
            "localities": [asdict(loc) for loc in found],
        }

    async def _check_areas(codes: list[str | None], field: str) -> None:
        wanted = {c for c in codes if c is not None}
        if not wanted:
            return

        def read() -> set[str]:
            with engine.connect() as conn:
                return set(conn.scalars(select(areas.c.code).where(areas.c.code.in_(wanted))))

        unknown = sorted(wanted - await anyio.to_thread.run_sync(read))
        if unknown:
            raise field_error(422, field, f"unknown area code(s) {unknown[:10]}", "body")

    return router
