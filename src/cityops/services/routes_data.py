"""HTTP routes that change or read the domain's data: the catalogue, the working calendar, bulk imports,
status events and ratings, single dossiers and their apology letter.

Bad input gets a 4xx whose detail names the field (and, for a file or a batch, the row or event and the
dossier code); a refused file or batch stores nothing.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AwareDatetime
from sqlalchemy import desc, select

from cityops.core.text_limits import Key
from cityops.services.catalogue import Agency, Procedure, UnknownAgencyError, UnknownProcedureError
from cityops.services.dossiers.classification import classify
from cityops.services.dossiers.events import EventsRefused, parse_ratings, parse_status_events
from cityops.services.dossiers.lifecycle import check_dossier
from cityops.services.dossiers.records import dossier_of
from cityops.services.importing.bulk import DossierImportError, RowProblem
from cityops.services.importing.readers import FileFormatError, Format
from cityops.services.letter import LetterError, make_letter, render
from cityops.services.runtime import DossiersChanged, ServicesRuntime
from cityops.services.schema import findings, imports
from cityops.services.store import effective_overrides, fetch_records, stored_overrides
from cityops.services.timing.calendar import DayOverride
from cityops.services.timing.periods import Period, from_timestamp

IMPORT_MAX_BYTES = 512 * 1024 * 1024
EVENTS_MAX_BYTES = 16 * 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
MEDIA_FORMATS: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
}


def field_error(status: int, field: str, message: str, where: str = "body") -> HTTPException:
    return HTTPException(status, detail=[{"loc": [where, field], "field": field, "msg": message}])


def problems_response(problems: list[RowProblem], what: str) -> JSONResponse:
    detail = [
        {"loc": ["body", what, p.row, p.field] if p.row else ["body", p.field], **p.to_dict()}
        for p in problems
    ]
    return JSONResponse(status_code=422, content={"detail": detail, "stored": 0})


def media_format(request: Request, given: str | None) -> Format:
    if given is not None:
        if given not in MEDIA_FORMATS.values():
            raise field_error(422, "format", f"{given!r} is not one of csv, xlsx, json, ndjson", "query")
        return given  # type: ignore[return-value]
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_FORMATS:
        raise field_error(415, "content-type", f"use one of {sorted(MEDIA_FORMATS)} (or ?format=)", "header")
    return MEDIA_FORMATS[media]


async def spooled_body(request: Request, limit: int) -> IO[bytes]:
    """The request body in a temporary file (memory up to 8 MiB); 413 past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise field_error(413, "body", f"is larger than the limit of {limit} bytes")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by the caller)
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            spool.close()
            raise field_error(413, "body", f"is larger than the limit of {limit} bytes")
        spool.write(part)
    spool.seek(0)
    return spool


async def body_file(request: Request, limit: int) -> Path:
    """The request body in a temporary file (a large import is read by a worker process); 413 past
    `limit` bytes. The caller removes the file."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise field_error(413, "body", f"is larger than the limit of {limit} bytes")
    handle = tempfile.NamedTemporaryFile(prefix="cityops-import-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    size = 0
    try:
        with handle:
            async for part in request.stream():
                size += len(part)
                if size > limit:
                    raise field_error(413, "body", f"is larger than the limit of {limit} bytes")
                handle.write(part)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def json_items(request: Request) -> list[Any]:
    """A JSON object, a JSON array of objects, or NDJSON (one object a line)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    spool = await spooled_body(request, EVENTS_MAX_BYTES)
    body = spool.read()
    spool.close()
    try:
        if media in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
            return [orjson.loads(line) for line in body.splitlines() if line.strip()]
        if media != "application/json":
            raise field_error(415, "content-type", "use application/json or application/x-ndjson", "header")
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise field_error(422, "body", f"is not valid JSON: {error}") from None
    return document if isinstance(document, list) else [document]


def data_router(runtime: ServicesRuntime, publish: Any, scan_alerts: Any) -> APIRouter:
    router = APIRouter()

    # -- catalogue ----------------------------------------------------------------------------------------

    @router.get("/catalogue/procedures", summary="Procedures (thủ tục hành chính), filtered and paged")
    async def list_procedures(
        level: Annotated[
            str | None, Query(max_length=20, description="province, district or commune")
        ] = None,
        field: Annotated[str | None, Query(max_length=300, description="lĩnh vực")] = None,
        limit: Annotated[int, Query(ge=1, le=2000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        chosen = [
            p
            for p in runtime.catalogue.procedures
            if (level is None or p.agency_level == level) and (field is None or p.field == field)
        ]
        return {
            "total": len(chosen),
            "items": [p.model_dump(mode="json") for p in chosen[offset : offset + limit]],
            "stats": _stats(runtime),
        }

    @router.put(
        "/catalogue/procedures", summary="Add or replace procedures by code", max_body_size=EVENTS_MAX_BYTES
    )
    async def put_procedures(items: list[Procedure]) -> dict[str, Any]:
        await _save(runtime, procedures=items)
        return {"saved": len(items), "procedures": len(runtime.catalogue.procedures)}

    @router.get("/catalogue/agencies", summary="Agencies with their validity (before/after the 2025 reform)")
    async def list_agencies(
        on: Annotated[str | None, Query(max_length=10, description="ISO date: valid that day")] = None,
    ) -> list[Any]:
        day = None
        if on is not None:
            try:
                day = datetime.fromisoformat(on).date()
            except ValueError:
                raise field_error(422, "on", f"{on!r} is not an ISO date (2025-07-01)", "query") from None
        return [a.model_dump(mode="json") for a in runtime.catalogue.agencies(day)]

    @router.put(
        "/catalogue/agencies",
        summary="Add or replace agency versions by (code, valid_from)",
        max_body_size=EVENTS_MAX_BYTES,
    )
    async def put_agencies(items: list[Agency]) -> dict[str, Any]:
        await _save(runtime, agencies=items)
        return {"saved": len(items), "agencies": len(runtime.catalogue.agencies())}

    # -- calendar -----------------------------------------------------------------------------------------

    @router.get("/calendar/overrides", summary="Swapped working days (ngày làm bù, nghỉ bù) in force")
    async def get_overrides() -> dict[str, Any]:
        def read() -> tuple[list[DayOverride], bool]:
            with runtime.engine.connect() as conn:
                return effective_overrides(conn), stored_overrides(conn) is None

        overrides, packaged = await anyio.to_thread.run_sync(read)
        return {"packaged": packaged, "overrides": [o.model_dump(mode="json") for o in overrides]}

    @router.put("/calendar/overrides", summary="Replace the swapped working days")
    async def put_overrides(items: list[DayOverride]) -> dict[str, Any]:
        days = [o.day for o in items]
        twice = sorted({d.isoformat() for d in days if days.count(d) > 1})
        if twice:
            raise field_error(422, "day", f"listed more than once: {twice}")
        await anyio.to_thread.run_sync(runtime.save_overrides, items)
        return {"saved": len(items)}

    @router.get("/calendar/due", summary="The calendar's due date of a procedure received at a moment")
    async def calendar_due(procedure_code: Key, received_at: AwareDatetime) -> dict[str, Any]:
        try:
            procedure = runtime.catalogue.procedure(procedure_code)
        except UnknownProcedureError as error:
            raise field_error(404, "procedure_code", str(error).partition(": ")[2], "query") from None
        due = runtime.calendar.due_after(received_at, procedure.duration, procedure.duration_unit)
        return {
            "procedure_code": procedure_code,
            "received_at": received_at.isoformat(),
            "due_at": due.isoformat(),
        }

    # -- imports, events, ratings -------------------------------------------------------------------------

    @router.post(
        "/imports",
        status_code=201,
        summary="Import a file of dossiers (CSV, XLSX, JSON, NDJSON): all or nothing, idempotent per code",
        max_body_size=IMPORT_MAX_BYTES,
        openapi_extra={
            "requestBody": {"content": {m: {"schema": {"type": "string"}} for m in MEDIA_FORMATS}}
        },
    )
    async def post_import(
        request: Request,
        source: Annotated[
            str, Query(min_length=1, max_length=200, description="file name, for the record")
        ] = "upload",
        format: Annotated[
            str | None, Query(max_length=10, description="csv, xlsx, json or ndjson (else from Content-Type)")
        ] = None,
    ) -> Any:
        chosen = media_format(request, format)
        path = await body_file(request, IMPORT_MAX_BYTES)
        try:
            report = await anyio.to_thread.run_sync(runtime.import_path, chosen, path, source)
        except DossierImportError as error:
            return problems_response(error.problems, "row")
        except FileFormatError as error:
            return problems_response([RowProblem(error.row, None, error.field, error.message)], "row")
        finally:
            path.unlink(missing_ok=True)
        await publish(DossiersChanged("import", report.inserted + report.updated))
        await scan_alerts()
        return report.to_dict()

    @router.get("/imports", summary="The latest imports")
    async def list_imports(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with runtime.engine.connect() as conn:
                rows = conn.execute(select(imports).order_by(desc(imports.c.id)).limit(limit))
                return [dict(row._mapping) for row in rows]

        return await anyio.to_thread.run_sync(read)

    @router.post(
        "/events",
        summary="Status-change events (JSON or NDJSON): all or nothing per request",
        max_body_size=EVENTS_MAX_BYTES,
    )
    async def post_events(request: Request) -> Any:
        items = await json_items(request)
        try:
            events = parse_status_events(items)
            report = await anyio.to_thread.run_sync(runtime.apply_events, events, "events")
        except EventsRefused as error:
            return problems_response(error.problems, "event")
        await publish(DossiersChanged("events", report.changed))
        await scan_alerts()
        return report.to_dict()

    @router.post(
        "/ratings",
        summary="Citizens' ratings and complaints (JSON or NDJSON)",
        max_body_size=EVENTS_MAX_BYTES,
    )
    async def post_ratings(request: Request) -> Any:
        items = await json_items(request)
        try:
            ratings = parse_ratings(items)
            report = await anyio.to_thread.run_sync(runtime.apply_events, ratings, "ratings")
        except EventsRefused as error:
            return problems_response(error.problems, "rating")
        await publish(DossiersChanged("ratings", report.changed))
        return report.to_dict()

    # -- dossiers -----------------------------------------------------------------------------------------

    @router.get("/dossiers/{code}", summary="One dossier, what the checks find, and its bucket now")
    async def get_dossier(code: Key) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            with runtime.engine.connect() as conn:
                record = fetch_records(conn, [code]).get(code)
                stored = conn.execute(
                    select(findings).where(findings.c.dossier_code == code).order_by(findings.c.id)
                ).all()
            if record is None:
                raise field_error(404, "code", f"dossier {code} is not known", "path")
            dossier = dossier_of(record)
            try:
                live = check_dossier(dossier, catalogue=runtime.catalogue, calendar=runtime.calendar)
            except (UnknownProcedureError, UnknownAgencyError) as error:
                problem = {"kind": "catalogue", "field": str(error).partition(":")[0], "msg": str(error)}
                return {"dossier": dossier.model_dump(mode="json"), "check": [problem], "findings": []}
            now = from_timestamp(runtime.now_s())
            bucket = classify(dossier, Period.at("month", runtime.now_s()), now)
            return {
                "dossier": dossier.model_dump(mode="json"),
                "bucket": None if bucket is None else bucket.bucket.name.lower(),
                "check": [
                    {"kind": f.kind, "field": f.field, "msg": f.message, "severity": f.severity} for f in live
                ],
                "findings": [
                    {
                        "kind": r.kind,
                        "field": r.field,
                        "msg": r.message,
                        "severity": r.severity,
                        "source": r.source,
                    }
                    for r in stored
                ],
            }

        return await anyio.to_thread.run_sync(read)

    @router.get(
        "/dossiers/{code}/apology-letter",
        response_class=HTMLResponse,
        summary="Printable apology letter with a new return date (Phiếu xin lỗi và hẹn lại ngày trả kết quả)",
    )
    async def apology_letter(
        code: Key,
        new_due: Annotated[
            AwareDatetime | None, Query(description="the new return date; default: computed")
        ] = None,
        reason: Annotated[str | None, Query(max_length=500)] = None,
        applicant: Annotated[str | None, Query(max_length=200, description="the citizen's name")] = None,
    ) -> HTMLResponse:
        def build() -> str:
            with runtime.engine.connect() as conn:
                record = fetch_records(conn, [code]).get(code)
            if record is None:
                raise field_error(404, "code", f"dossier {code} is not known", "path")
            try:
                letter = make_letter(
                    dossier_of(record),
                    catalogue=runtime.catalogue,
                    calendar=runtime.calendar,
                    area_book=runtime.area_book,
                    now=from_timestamp(runtime.now_s()),
                    new_due=new_due,
                    reason=reason,
                    applicant=applicant,
                    simulated=runtime.simulated,
                )
            except LetterError as error:
                name, _, message = str(error).partition(": ")
                raise field_error(409 if name == "status" else 422, name, message, "query") from None
            except UnknownProcedureError as error:
                raise field_error(409, "procedure_code", str(error).partition(": ")[2]) from None
            return render(letter)

        return HTMLResponse(await anyio.to_thread.run_sync(build))

    @router.post("/alerts/scan", summary="Raise and clear the per-dossier due-soon and late alerts now")
    async def scan_now() -> dict[str, int]:
        return {"changed": await scan_alerts()}

    return router


async def _save(runtime: ServicesRuntime, **changes: Any) -> None:
    try:
        await anyio.to_thread.run_sync(lambda: runtime.save_catalogue(**changes))
    except ValueError as error:
        raise field_error(422, "catalogue", str(error)) from None


def _stats(runtime: ServicesRuntime) -> dict[str, int]:
    stats = runtime.catalogue.stats()
    return {name: getattr(stats, name) for name in stats.__dataclass_fields__}
