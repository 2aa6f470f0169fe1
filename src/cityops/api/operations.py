"""The operations room's API: alert rules (CRUD, domain templates), alerts, and incidents with their
transitions, comments and attachments.

Who may do what (docs/access.md): admins and operators everything; leaders read; agency officers list,
read and act on the incidents of their agency and areas (404 for any other, as for one that does not
exist) and see no rules or alerts. The caller recorded in incident histories and the audit log is the
signed-in principal, never a name sent in the request.

The router reads the rule engine and the incident desk from `app.state.rules` and `app.state.incidents`
(set by `create_app`), so it runs in any app that provides them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Row, Select
from starlette.datastructures import UploadFile

from cityops.api.alert_summary import MAX_PER_RULE, summarise
from cityops.api.auth import Reader, Writer, problem, require
from cityops.api.scoping import ensure_in_scope, incident_place, restrict
from cityops.core.access.accounts import Principal, Role
from cityops.core.incidents.attachments import MULTIPART_OVERHEAD, AttachmentError, multipart_limit
from cityops.core.incidents.desk import (
    ACTIVE,
    Guard,
    IllegalTransition,
    IncidentConflict,
    IncidentDesk,
    IncidentFieldError,
    IncidentFilter,
    IncidentNotFound,
    NewIncident,
    State,
)
from cityops.core.multipart_form import FileTooLarge, FormUnreadable, limited_form
from cityops.core.rules.alerts import AlertFilter, alert_to_dict, get_alert, list_alerts
from cityops.core.rules.definitions import SUB_CATEGORIES, Category, RuleError, Severity
from cityops.core.rules.engine import RuleConflict, RuleEngine, RuleNotFound, StoredRule
from cityops.core.schema_operations import incidents
from cityops.core.text_limits import Key

router = APIRouter(tags=["operations"])

T = TypeVar("T")

# Rules and alerts: leaders (and the anonymous wall screen) read them; agency officers do not.
RoomReader = Annotated[
    Principal, Depends(require(frozenset({Role.ADMIN, Role.OPERATOR, Role.LEADER}), viewer=True))
]
# Incidents: agency officers act too, on those in their scope.
IncidentWorker = Annotated[
    Principal, Depends(require(frozenset({Role.ADMIN, Role.OPERATOR, Role.AGENCY_OFFICER})))
]


def rules_of(request: Request) -> RuleEngine:
    engine: RuleEngine = request.app.state.rules
    return engine


def desk_of(request: Request) -> IncidentDesk:
    desk: IncidentDesk = request.app.state.incidents
    return desk


def _field(status: int, field: str, message: str, where: str = "body") -> HTTPException:
    return HTTPException(status, detail=[{"loc": [where, field], "field": field, "msg": message}])


async def _answer(call: Awaitable[T]) -> T:
    """Turn the kernel's errors into HTTP answers that name the field (4xx, never 500)."""
    try:
        return await call
    except RuleError as exc:
        raise HTTPException(422, detail=[e.to_dict() for e in exc.errors]) from None
    except (RuleNotFound, IncidentNotFound):
        # The same answer as outside an officer's scope, so the two cannot be told apart.
        raise problem(404, "not_found") from None
    except IllegalTransition as exc:
        detail = {"msg": str(exc), "from": exc.from_state, "to": exc.to_state, "allowed": exc.allowed}
        raise HTTPException(409, detail=detail) from None
    except (RuleConflict, IncidentConflict) as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except IncidentFieldError as exc:
        raise _field(422, exc.field, exc.message) from None
    except AttachmentError as exc:
        raise _field(exc.status, exc.field, exc.message) from None


# --- agency officers' scope ------------------------------------------------------------------------
def _scoped(principal: Principal) -> Callable[[Select[Any]], Select[Any]]:
    def narrow(query: Select[Any]) -> Select[Any]:
        return restrict(
            query, principal, incidents.c.agency, incidents.c.area_code, incidents.c.legacy_area_code
        )

    return narrow


def _guard(principal: Principal) -> Guard | None:
    """Checks, in the transaction that would change it, that the incident is in `principal`'s scope."""
    if principal.scope is None:
        return None

    def guard(row: Row[Any]) -> None:
        ensure_in_scope(principal, row.agency, row.area_code, row.legacy_area_code)

    return guard


async def _ensure_visible(request: Request, principal: Principal, incident_id: int) -> None:
    """404 unless the incident exists and lies in `principal`'s scope (before reading what hangs on it)."""
    if principal.scope is None:
        return
    place = await anyio.to_thread.run_sync(incident_place, desk_of(request).engine, incident_id)
    if place is None:
        raise problem(404, "not_found")
    ensure_in_scope(principal, *place)


# --- rules -----------------------------------------------------------------------------------------
def _rule(engine: RuleEngine, stored: StoredRule) -> dict[str, Any]:
    return {**stored.to_dict(), "open_alerts": engine.open_alerts_of(stored.rule.id)}


RULE_EXAMPLE = {
    "id": "congestion-tdm",
    "kind": "duration",
    "title": {"vi": "Ùn tắc kéo dài", "en": "Lasting congestion", "ja": "渋滞の継続"},
    "severity": "high",
    "category": "traffic",
    "sub_category": "trafficJam",
    "entity_type": "Camera",
    "metric": "occupancy",
    "op": ">",
    "value": 80,
    "minutes": 10,
    "area": "legacy:718",
}
RuleBody = Annotated[
    dict[str, Any],
    Body(
        description="A rule (kind: threshold, duration, absence, rate_of_change, indicator_off_target), "
        "optionally `template` with overrides; see docs/operations.md",
        examples=[RULE_EXAMPLE],
    ),
]


@router.get("/api/rules", summary="Alert rules")
async def get_rules(request: Request, principal: RoomReader) -> list[dict[str, Any]]:
    engine = rules_of(request)
    return [_rule(engine, stored) for stored in engine.rules()]


@router.get("/api/rule-templates", summary="Rule templates shipped by the domains")
async def get_rule_templates(request: Request, principal: RoomReader) -> list[dict[str, Any]]:
    templates = rules_of(request).catalogue.templates
    return [{"id": t.id, "title": t.title, "defaults": t.defaults} for t in templates.values()]


@router.get("/api/rules/{rule_id}", summary="One alert rule")
async def get_rule(request: Request, principal: RoomReader, rule_id: Key) -> dict[str, Any]:
    engine = rules_of(request)
    try:
        return _rule(engine, engine.get(rule_id))
    except RuleNotFound:
        raise problem(404, "not_found") from None


@router.post("/api/rules", status_code=201, summary="Create an alert rule (or one from a template)")
async def post_rule(request: Request, principal: Writer, body: RuleBody) -> dict[str, Any]:
    engine = rules_of(request)
    return _rule(engine, await _answer(engine.create(body, principal.actor)))


@router.put("/api/rules/{rule_id}", summary="Replace an alert rule")
async def put_rule(request: Request, principal: Writer, rule_id: Key, body: RuleBody) -> dict[str, Any]:
    engine = rules_of(request)
    return _rule(engine, await _answer(engine.replace(rule_id, body, principal.actor)))


@router.delete("/api/rules/{rule_id}", status_code=204, summary="Delete an alert rule (its alerts clear)")
async def delete_rule(request: Request, principal: Writer, rule_id: Key) -> Response:
    await _answer(rules_of(request).delete(rule_id, principal.actor))
    return Response(status_code=204)


# --- alerts ----------------------------------------------------------------------------------------
@router.get("/api/alerts", summary="Alerts (Smart Data Models Alert), newest first")
async def get_alerts(
    request: Request,
    principal: RoomReader,
    state: Literal["open", "cleared", "all"] = "open",
    severity: Severity | None = None,
    category: Category | None = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    area: Annotated[str | None, Query(max_length=32, description="area code; its sub-areas count")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    engine = rules_of(request)
    desk = desk_of(request)

    def read() -> tuple[int, list[dict[str, Any]]]:
        with engine.engine.connect() as conn:
            codes = desk.areas_under(conn, area) if area else None
            where = AlertFilter(state, severity, category, rule, source, codes)
            return list_alerts(conn, where, limit, offset)

    total, items = await anyio.to_thread.run_sync(read)
    return {"total": total, "items": items}


# Declared before /api/alerts/{alert_id}, which would otherwise take "summary" for an alert id.
@router.get(
    "/api/alerts/summary",
    summary="Alerts counted by rule: per rule its count, most severe level, newest alerts (most severe first)",
)
async def get_alert_summary(
    request: Request,
    principal: RoomReader,
    state: Literal["open", "cleared", "all"] = "open",
    severity: Severity | None = None,
    category: Category | None = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    area: Annotated[str | None, Query(max_length=32, description="area code; its sub-areas count")] = None,
    per_rule: Annotated[
        int, Query(ge=1, le=MAX_PER_RULE, description="how many of each rule's newest alerts to include")
    ] = 3,
) -> dict[str, Any]:
    engine = rules_of(request)
    desk = desk_of(request)

    def read() -> dict[str, Any]:
        with engine.engine.connect() as conn:
            codes = desk.areas_under(conn, area) if area else None
            return summarise(conn, AlertFilter(state, severity, category, None, source, codes), per_rule)

    return await anyio.to_thread.run_sync(read)


@router.get("/api/alerts/{alert_id}", summary="One alert")
async def get_one_alert(request: Request, principal: RoomReader, alert_id: int) -> dict[str, Any]:
    engine = rules_of(request)

    def read() -> dict[str, Any] | None:
        with engine.engine.connect() as conn:
            row = get_alert(conn, alert_id)
            return None if row is None else alert_to_dict(row)

    alert = await anyio.to_thread.run_sync(read)
    if alert is None:
        raise problem(404, "not_found")
    return alert


class AlertIncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an `actor` field is refused: the caller is the actor

    incident_id: int | None = Field(default=None, description="join this incident; leave out to open one")


@router.post("/api/alerts/{alert_id}/incident", summary="Open an incident from an alert, or join one")
async def post_alert_incident(
    request: Request, principal: Writer, alert_id: int, body: AlertIncidentIn
) -> dict[str, Any]:
    return await _answer(desk_of(request).link_alert(alert_id, body.incident_id, principal.actor))


# --- incidents -------------------------------------------------------------------------------------
class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: Annotated[list[float], Field(min_length=2, max_length=2)]

    @field_validator("coordinates")
    @classmethod
    def _range(cls, value: list[float]) -> list[float]:
        lon, lat = value
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError("longitude/latitude out of range")
        return value


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    severity: Severity = "medium"
    category: Category
    sub_category: Annotated[str | None, Field(max_length=64)] = None
    location: PointGeometry | None = None
    source: Annotated[str | None, Field(max_length=200, description="URN of the entity concerned")] = None

    @field_validator("sub_category")
    @classmethod
    def _sub_category(cls, value: str | None) -> str | None:
        if value is not None and value not in SUB_CATEGORIES:
            raise ValueError(f"unknown subCategory {value!r} (Smart Data Models Alert)")
        return value


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: State
    agency: Annotated[str | None, Field(max_length=200, description="required to assign")] = None
    note: Annotated[str | None, Field(max_length=10_000)] = None


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=10_000)]


@router.get("/api/incidents", summary="Incidents, newest first (with a location for map markers)")
async def get_incidents(
    request: Request,
    principal: Reader,
    state: Annotated[list[State] | None, Query(description="repeat to ask for several")] = None,
    severity: Annotated[list[Severity] | None, Query(description="repeat to ask for several")] = None,
    area: Annotated[str | None, Query(max_length=32, description="area code; its sub-areas count")] = None,
    escalated: bool | None = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    where = IncidentFilter(tuple(state or ()), tuple(severity or ()), area, escalated, source)
    total, items = await desk_of(request).search(where, limit, offset, _scoped(principal))
    return {"total": total, "items": items}


@router.get("/api/incidents/map", summary="Incidents not yet closed, as GeoJSON for the map")
async def get_incidents_map(request: Request, principal: Reader) -> dict[str, Any]:
    where = IncidentFilter(states=(*ACTIVE, "resolved"))
    _, items = await desk_of(request).search(where, 10_000, 0, _scoped(principal))
    features = [
        {
            "type": "Feature",
            "id": item["id"],
            "geometry": item["location"],
            "properties": {k: v for k, v in item.items() if k != "location"},
        }
        for item in items
        if item["location"] is not None
    ]
    return {"type": "FeatureCollection", "features": features}


@router.post("/api/incidents", status_code=201, summary="Open an incident by hand")
async def post_incident(request: Request, principal: Writer, body: IncidentIn) -> dict[str, Any]:
    lon, lat = body.location.coordinates if body.location else (None, None)
    new = NewIncident(
        title=body.title,
        severity=body.severity,
        category=body.category,
        description=body.description,
        sub_category=body.sub_category,
        source=body.source,
        lon=lon,
        lat=lat,
    )
    return await _answer(desk_of(request).open(new, principal.actor))


@router.get("/api/incidents/{incident_id}", summary="One incident with its history, alerts and attachments")
async def get_incident(request: Request, principal: Reader, incident_id: int) -> dict[str, Any]:
    detail = await _answer(desk_of(request).get(incident_id))
    ensure_in_scope(principal, detail["agency"], detail["area_code"], detail["legacy_area_code"])
    return detail


@router.post(
    "/api/incidents/{incident_id}/transitions",
    summary="Move an incident along its lifecycle (409 when the move is not allowed)",
)
async def post_transition(
    request: Request, principal: IncidentWorker, incident_id: int, body: TransitionIn
) -> dict[str, Any]:
    desk = desk_of(request)
    return await _answer(
        desk.transition(incident_id, body.to, principal.actor, body.note, body.agency, _guard(principal))
    )


@router.get("/api/incidents/{incident_id}/history", summary="Audit trail of one incident")
async def get_history(request: Request, principal: Reader, incident_id: int) -> list[dict[str, Any]]:
    await _ensure_visible(request, principal, incident_id)
    return await _answer(desk_of(request).history(incident_id))


@router.get("/api/incidents/{incident_id}/comments", summary="Comments on one incident")
async def get_comments(request: Request, principal: Reader, incident_id: int) -> list[dict[str, Any]]:
    await _ensure_visible(request, principal, incident_id)
    return await _answer(desk_of(request).history(incident_id, kind="comment"))


@router.post("/api/incidents/{incident_id}/comments", status_code=201, summary="Comment on an incident")
async def post_comment(
    request: Request, principal: IncidentWorker, incident_id: int, body: CommentIn
) -> dict[str, Any]:
    return await _answer(desk_of(request).comment(incident_id, body.text, principal.actor, _guard(principal)))


@router.get("/api/incidents/{incident_id}/attachments", summary="Files attached to one incident")
async def get_attachments(request: Request, principal: Reader, incident_id: int) -> list[dict[str, Any]]:
    await _ensure_visible(request, principal, incident_id)
    return await _answer(desk_of(request).attachments_of(incident_id))


@router.post(
    "/api/incidents/{incident_id}/attachments",
    status_code=201,
    summary="Attach a file (multipart field `file`; at most 10 MiB)",
    max_body_size=multipart_limit(1),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def post_attachment(request: Request, principal: IncidentWorker, incident_id: int) -> dict[str, Any]:
    await _ensure_visible(request, principal, incident_id)
    desk = desk_of(request)
    limit = desk.settings.max_attachment_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise _field(413, "file", f"is larger than the limit of {limit} bytes")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise _field(415, "content-type", "send multipart/form-data with the file in field 'file'", "header")
    try:
        async with limited_form(request, max_file_bytes=limit, max_files=1, max_fields=4) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise _field(422, "file", "is required (a multipart file field named 'file')")
            if "actor" in form:
                raise _field(422, "actor", "is not accepted: the signed-in account is recorded")
            name = upload.filename or ""
            return await _answer(
                desk.attach_file(incident_id, upload.file, name, principal.actor, _guard(principal))
            )
    except FileTooLarge as exc:
        raise _field(413, exc.field, f"is larger than the limit of {limit} bytes") from None
    except FormUnreadable as exc:
        raise _field(400, "body", str(exc)) from None


@router.get("/api/incidents/{incident_id}/attachments/{attachment_id}", summary="Download an attachment")
async def get_attachment(
    request: Request, principal: Reader, incident_id: int, attachment_id: int
) -> FileResponse:
    await _ensure_visible(request, principal, incident_id)
    path, meta = await _answer(desk_of(request).attachment_file(incident_id, attachment_id))
    return FileResponse(
        path,
        media_type=meta["content_type"],
        filename=meta["name"],
        headers={"X-Content-Type-Options": "nosniff"},
    )
