"""HTTP routes that read the index: Decision 766 score, targets and GOV.UK trio for any period and scope,
rankings, trends, the late-dossier list and the dashboard panel's data in one answer.

Periods are `2025` (year), `2025-Q3` (quarter) or `2025-07` (month), the running year by default; scopes
`province`, `agency:<code>` or `locality:<area code>` (a legacy district before the 2025 reform, a 2025
ward from it on).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query
from sqlalchemy import Connection, select

from cityops.services.alerts import OPEN_CONDITION, WAITING
from cityops.services.index.scoring import Reader, Scope
from cityops.services.routes_data import field_error
from cityops.services.runtime import ServicesRuntime
from cityops.services.schema import dossiers, findings
from cityops.services.timing.periods import Period, from_timestamp

PeriodQuery = Annotated[
    str | None, Query(max_length=10, description="2025, 2025-Q3 or 2025-07; default: this year")
]
ScopeQuery = Annotated[
    str, Query(max_length=120, description="province, agency:<code> or locality:<area code>")
]


def index_router(runtime: ServicesRuntime) -> APIRouter:
    router = APIRouter()

    def period_of(text: str | None) -> Period:
        if text is None:
            return Period("year", from_timestamp(runtime.now_s()).year)
        try:
            return Period.parse(text)
        except ValueError as error:
            raise field_error(422, "period", str(error).partition(": ")[2], "query") from None

    def scope_of(text: str) -> Scope:
        try:
            return Scope.parse(text)
        except ValueError as error:
            raise field_error(422, "scope", str(error).partition(": ")[2], "query") from None

    def reading(work: Any) -> Any:
        with runtime.reading() as accumulator:
            reader = Reader(
                accumulator, runtime.catalogue, runtime.area_book, from_timestamp(runtime.now_s())
            )
            try:
                return work(reader)
            except LookupError as error:
                raise field_error(
                    404, "scope", str(error).partition(": ")[2] or str(error), "query"
                ) from None

    @router.get("/index", summary="Decision 766 index, targets with projection, GOV.UK trio")
    async def get_index(period: PeriodQuery = None, scope: ScopeQuery = "province") -> dict[str, Any]:
        chosen, where = period_of(period), scope_of(scope)
        result: dict[str, Any] = await anyio.to_thread.run_sync(reading, lambda r: r.summary(where, chosen))
        return result

    @router.get("/rankings", summary="Agencies or localities ranked by their index")
    async def get_rankings(
        kind: Annotated[Literal["agency", "locality"], Query()] = "locality", period: PeriodQuery = None
    ) -> dict[str, Any]:
        chosen = period_of(period)
        rows = await anyio.to_thread.run_sync(reading, lambda r: r.ranking(kind, chosen))
        scheme = runtime.area_book.scheme_for(chosen.start, chosen.end)
        return {"period": chosen.key, "kind": kind, "scheme": scheme, "items": rows}

    @router.get("/trends", summary="Month by month: index, dossiers received, online share, on-time rate")
    async def get_trends(
        scope: ScopeQuery = "province", year: Annotated[int | None, Query(ge=2000, le=2100)] = None
    ) -> dict[str, Any]:
        where = scope_of(scope)
        chosen = year or from_timestamp(runtime.now_s()).year
        rows = await anyio.to_thread.run_sync(reading, lambda r: r.trends(where, chosen))
        return {"scope": where.key, "year": chosen, "months": rows}

    @router.get("/dossiers", summary="Open dossiers past their due date (late) or due within 24 h")
    async def list_due(
        state: Annotated[Literal["late", "due_soon"], Query()] = "late",
        agency: Annotated[str | None, Query(max_length=100)] = None,
        locality: Annotated[
            str | None, Query(max_length=100, description="a legacy district or a 2025 ward")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        areas = None
        if locality is not None:
            localities = {**runtime.area_book.localities("legacy"), **runtime.area_book.localities("2025")}
            if locality not in localities:
                raise field_error(404, "locality", f"{locality!r} is not a locality", "query")
            areas = localities[locality]

        def read() -> list[dict[str, Any]]:
            with runtime.engine.connect() as conn:
                return due_list(runtime, conn, state, agency, areas, limit)

        items = await anyio.to_thread.run_sync(read)
        return {"state": state, "items": items}

    @router.get("/findings", summary="What imports and events noticed and did not change (warnings)")
    async def list_findings(
        kind: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            query = select(findings).order_by(findings.c.id.desc()).limit(limit)
            if kind is not None:
                query = query.where(findings.c.kind == kind)
            with runtime.engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(query)]

        return await anyio.to_thread.run_sync(read)

    @router.get("/panel", summary="Everything the dashboard panel shows, in one answer")
    async def get_panel(period: PeriodQuery = None) -> dict[str, Any]:
        chosen = period_of(period)

        def build() -> dict[str, Any]:
            result: dict[str, Any] = reading(
                lambda r: {
                    "period": chosen.key,
                    "simulated": runtime.simulated,
                    "province": r.summary(Scope("province"), chosen),
                    "localities": {
                        "scheme": r.scheme(chosen),
                        "items": r.ranking("locality", chosen),
                    },
                    "agencies": r.ranking("agency", chosen)[:20],
                    "trends": r.trends(Scope("province"), chosen.start.year),
                }
            )
            with runtime.engine.connect() as conn:
                result["late"] = due_list(runtime, conn, "late", None, None, 20)
                result["due_soon"] = due_list(runtime, conn, "due_soon", None, None, 20)
            counts = result["province"]["counts"]
            result["channels"] = {name: counts[name] for name in ("walk_in", "online", "postal")}
            return result

        panel: dict[str, Any] = await anyio.to_thread.run_sync(build)
        return panel

    return router


def due_list(
    runtime: ServicesRuntime,
    conn: Connection,
    state: Literal["late", "due_soon"],
    agency: str | None,
    areas: list[str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    now_s = runtime.now_s()
    columns = (dossiers.c.code, dossiers.c.procedure_code, dossiers.c.agency_code, dossiers.c.area_code)
    query = select(*columns, dossiers.c.due_at, dossiers.c.received_at).where(
        OPEN_CONDITION, dossiers.c.status != WAITING
    )
    if state == "late":
        query = query.where(dossiers.c.due_at < now_s)
    else:
        query = query.where(dossiers.c.due_at >= now_s, dossiers.c.due_at < now_s + 24 * 3600)
    if agency is not None:
        query = query.where(dossiers.c.agency_code == agency)
    if areas is not None:
        query = query.where(dossiers.c.area_code.in_(areas))
    now = from_timestamp(now_s)
    calendar = runtime.calendar
    names = {p.code: p.name for p in runtime.catalogue.procedures}
    rows = []
    for row in conn.execute(query.order_by(dossiers.c.due_at).limit(limit)):
        due = from_timestamp(row.due_at)
        late_hours = calendar.working_time_between(due, now) / timedelta(hours=1) if state == "late" else 0.0
        try:
            agency_name = runtime.catalogue.agency(row.agency_code).name
        except LookupError:
            agency_name = row.agency_code
        rows.append(
            {
                "code": row.code,
                "procedure_code": row.procedure_code,
                "procedure_name": names.get(row.procedure_code, row.procedure_code),
                "agency_code": row.agency_code,
                "agency_name": agency_name,
                "area_code": row.area_code,
                "area_name": runtime.area_book.name(row.area_code),
                "received_at": from_timestamp(row.received_at).isoformat() if row.received_at else None,
                "due_at": due.isoformat(),
                "working_hours_late": round(late_hours, 1),
                "letter": f"/api/services/dossiers/{row.code}/apology-letter",
            }
        )
    return rows
