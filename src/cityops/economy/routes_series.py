"""`/api/economy` routes of the statistical series: definitions, figures with their revisions, imports
from a statistics office's table (CSV, XLSX) or JSON, targets and the overview."""

from __future__ import annotations

import io
import time
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, desc, insert, select
from sqlalchemy.exc import IntegrityError

from cityops.core.access.accounts import Principal
from cityops.core.domain import LANGUAGES
from cityops.core.schema import areas
from cityops.core.store import write_transaction
from cityops.core.text_limits import Key, Label
from cityops.economy import catalogue, figures, importing, overview, sheets, targets
from cityops.economy.change import year_on_year
from cityops.economy.periods import Period, PeriodError, parse
from cityops.economy.schema import imports

IMPORT_MAX_BYTES = 5 * 1024 * 1024
MAX_FIGURES = 10_000
MEDIA_FORMATS: dict[str, sheets.Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


def field_error(status: int, field: str, message: str, where: str = "query") -> HTTPException:
    return HTTPException(status, detail=[{"loc": [where, field], "field": field, "msg": message}])


def problems_response(problems: list[importing.Problem]) -> JSONResponse:
    detail = [{"loc": ["body", p.row, p.column], **p.to_dict()} for p in problems]
    return JSONResponse(status_code=422, content={"detail": detail, "stored": 0})


def actor_of(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    return principal.actor if isinstance(principal, Principal) else "anonymous"


def language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise field_error(422, "lang", f"use one of {list(LANGUAGES)}")
    return lang


def period_of(text: str, field: str = "period") -> Period:
    try:
        return parse(text)
    except PeriodError as error:
        raise field_error(422, field, str(error)) from None


class FigureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series: Key
    period: Key = Field(description="2021-09, 2021-01..09, 2021, Tháng 9/2021, 9 tháng năm 2021")
    value: float | None = Field(default=None, allow_inf_nan=False)
    change_pct: float | None = Field(default=None, allow_inf_nan=False, description="% on a year earlier")
    unit: Label | None = Field(default=None, description="checked against the series' unit when given")
    qualifier: Key | None = Field(default=None, description="'over' or 'about', as the source says")
    source: str = Field(min_length=1, max_length=300)
    simulated: bool = False
    note: str | None = Field(default=None, max_length=1000, description="why a revision was made")

    @field_validator("qualifier")
    @classmethod
    def _qualifier(cls, value: str | None) -> str | None:
        if value is not None and value not in figures.QUALIFIERS:
            raise ValueError(f"use one of {list(figures.QUALIFIERS)}")
        return value


class FiguresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    figures: list[FigureIn] = Field(min_length=1, max_length=MAX_FIGURES)
    revise: bool = Field(default=False, description="store figures that differ as new revisions")


def series_router(engine: Engine) -> APIRouter:
    router = APIRouter()

    def known() -> dict[str, catalogue.Series]:
        with engine.connect() as conn:
            return catalogue.all_series(conn)

    def one(code: str) -> catalogue.Series:
        found = known().get(code)
        if found is None:
            raise field_error(404, "code", f"no series {code!r}", "path")
        return found

    @router.get("/series", summary="The series: built-in and the operator's")
    async def list_series(lang: Key = "vi") -> list[dict[str, Any]]:
        chosen = language(lang)
        return [s.to_dict(chosen) for s in (await anyio.to_thread.run_sync(known)).values()]

    @router.post("/series", status_code=201, summary="Define a series (unit, source, period type, area)")
    async def create_series(request: Request, body: catalogue.SeriesIn) -> dict[str, Any]:
        new = body.to_series()

        def create() -> bool | None:
            with write_transaction(engine) as conn:
                if conn.execute(select(areas.c.code).where(areas.c.code == new.area_code)).first() is None:
                    return None
                return catalogue.create(conn, new, actor_of(request))

        created = await anyio.to_thread.run_sync(create)
        if created is None:
            raise field_error(422, "area_code", f"unknown area {new.area_code!r} (GET /api/areas)", "body")
        if not created:
            raise field_error(409, "code", f"the series {new.code!r} exists", "body")
        return new.to_dict()

    @router.get("/series/{code}", summary="A series' figures in force, with the change on a year earlier")
    async def series_figures(code: Key, lang: Key = "vi") -> dict[str, Any]:
        chosen = language(lang)
        series = one(code)

        def read() -> dict[Period, figures.Figure]:
            with engine.connect() as conn:
                return figures.series_in_force(conn, code)

        found = await anyio.to_thread.run_sync(read)
        levels = {p: f.value for p, f in found.items() if f.value is not None}
        rows = []
        for period in sorted(found):
            row = found[period].to_dict()
            row["label"] = period.label(chosen)
            row["change_computed_pct"] = year_on_year(levels, period, series.additive)
            rows.append(row)
        return {"series": series.to_dict(chosen), "figures": rows}

    @router.get("/series/{code}/history", summary="Every revision of one figure, oldest first")
    async def series_history(code: Key, period: Key) -> list[dict[str, Any]]:
        one(code)
        chosen = period_of(period)

        def read() -> list[figures.Figure]:
            with engine.connect() as conn:
                return figures.history(conn, code, chosen)

        return [f.to_dict() for f in await anyio.to_thread.run_sync(read)]

    @router.post(
        "/figures", summary="Send figures (JSON): all or nothing; revise=true to revise published ones"
    )
    async def post_figures(request: Request, body: FiguresIn) -> Any:
        series = await anyio.to_thread.run_sync(known)
        problems: list[importing.Problem] = []
        new: list[importing.Located] = []
        seen: dict[tuple[str, Period], int] = {}
        for position, item in enumerate(body.figures):
            where = f"figures[{position}]"
            found = series.get(item.series)
            if found is None:
                problems.append(importing.Problem(position, "series", f"unknown series {item.series!r}"))
                continue
            if item.unit is not None and item.unit != found.unit:
                problems.append(
                    importing.Problem(
                        position, "unit", f"{item.unit!r} is not the unit of {found.code!r} ({found.unit})"
                    )
                )
            try:
                period = parse(item.period)
            except PeriodError as error:
                problems.append(importing.Problem(position, "period", str(error)))
                continue
            if (found.code, period) in seen:
                problems.append(
                    importing.Problem(
                        position,
                        "period",
                        f"{period.key} is already at figures[{seen[(found.code, period)]}]",
                    )
                )
                continue
            seen[(found.code, period)] = position
            if item.value is None and item.change_pct is None:
                problems.append(importing.Problem(position, "value", "give a value, a change_pct or both"))
                continue
            figure = figures.NewFigure(
                found.code,
                period,
                item.value,
                item.change_pct,
                item.qualifier,
                item.source,
                item.simulated,
                item.note,
            )
            new.append(importing.Located(figure, position, where))
        if problems:
            return problems_response(problems)
        return await _store(engine, new, actor_of(request), body.revise, "api", "json")

    @router.post(
        "/imports",
        status_code=201,
        summary="Import a statistics office's table (CSV or XLSX): all or nothing per file",
        openapi_extra={
            "requestBody": {"content": {m: {"schema": {"type": "string"}} for m in MEDIA_FORMATS}}
        },
    )
    async def post_import(
        request: Request,
        source: Annotated[str, Query(min_length=1, max_length=200, description="who published the table")],
        format: Annotated[
            str | None, Query(max_length=10, description="csv or xlsx (else from Content-Type)")
        ] = None,
        revise: bool = False,
    ) -> Any:
        chosen = _format(request, format)
        body = await _body(request)

        def read() -> list[importing.Located]:
            sheet = sheets.read(chosen, io.BytesIO(body))
            return importing.figures_of(sheet, known(), source)

        try:
            located = await anyio.to_thread.run_sync(read)
        except sheets.SheetError as error:
            return problems_response([importing.Problem(error.row, None, error.reason)])
        except importing.ImportRefused as error:
            return problems_response(error.problems)
        return await _store(engine, located, actor_of(request), revise, source, chosen)

    @router.get("/imports", summary="The latest imports")
    async def list_imports(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with engine.connect() as conn:
                rows = conn.execute(select(imports).order_by(desc(imports.c.id)).limit(limit))
                return [dict(row._mapping) for row in rows]

        return await anyio.to_thread.run_sync(read)

    @router.put("/targets", summary="Set annual targets (a level for the year or a growth rate)")
    async def put_targets(request: Request, items: list[targets.TargetIn]) -> dict[str, Any]:
        series = await anyio.to_thread.run_sync(known)
        for position, item in enumerate(items):
            if item.series_code not in series:
                raise field_error(
                    422, f"[{position}].series_code", f"unknown series {item.series_code!r}", "body"
                )

        def put() -> None:
            with write_transaction(engine) as conn:
                targets.put(conn, items, actor_of(request))

        await anyio.to_thread.run_sync(put)
        return {"stored": len(items)}

    @router.get("/overview", summary="Each series from January to the latest month: value, change, target")
    async def get_overview(
        year: Annotated[int, Query(ge=1900, le=2199)],
        through: Annotated[int, Query(ge=1, le=12, description="latest month to consider")] = 12,
        lang: Key = "vi",
    ) -> list[dict[str, Any]]:
        chosen = language(lang)

        def read() -> list[overview.SeriesStatus]:
            with engine.connect() as conn:
                return overview.overview(conn, year, through)

        return [s.to_dict(chosen) for s in await anyio.to_thread.run_sync(read)]

    return router


def _format(request: Request, given: str | None) -> sheets.Format:
    if given is not None:
        if given not in ("csv", "xlsx"):
            raise field_error(422, "format", f"{given!r} is not csv or xlsx")
        return given  # type: ignore[return-value]
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_FORMATS:
        raise field_error(415, "content-type", f"use one of {sorted(MEDIA_FORMATS)} (or ?format=)", "header")
    return MEDIA_FORMATS[media]


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > IMPORT_MAX_BYTES:
        raise field_error(413, "body", f"is larger than the limit of {IMPORT_MAX_BYTES} bytes", "body")
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > IMPORT_MAX_BYTES:
            raise field_error(413, "body", f"is larger than the limit of {IMPORT_MAX_BYTES} bytes", "body")
        parts.append(part)
    return b"".join(parts)


async def _store(
    engine: Engine, located: list[importing.Located], actor: str, revise: bool, source: str, format: str
) -> Any:
    def write() -> figures.Outcome:
        with write_transaction(engine) as conn:
            outcome = figures.store(conn, [item.figure for item in located], actor, revise)
            conn.execute(
                insert(imports),
                [
                    {
                        "source": source[:200],
                        "format": format,
                        "figures": len(located),
                        "stored": outcome.stored,
                        "revised": outcome.revised,
                        "unchanged": outcome.unchanged,
                        "actor": actor,
                        "imported_ms": int(time.time() * 1000),
                    }
                ],
            )
            return outcome

    try:
        outcome = await anyio.to_thread.run_sync(write)
    except IntegrityError:
        # Another request stored a figure of the same period between our read and our write (possible on
        # PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers): nothing of this one was stored.
        raise field_error(
            409, "figures", "changed by another request meanwhile; send it again", "body"
        ) from None
    except figures.FiguresRefused as error:
        return problems_response(
            [
                importing.Problem(located[c.position].row, located[c.position].column, c.message)
                for c in error.conflicts
            ]
        )
    return JSONResponse(
        status_code=201,
        content={
            "figures": len(located),
            "stored": outcome.stored,
            "revised": outcome.revised,
            "unchanged": outcome.unchanged,
        },
    )
