"""Keeping agency officers to their agency and areas, for the routers that serve incidents and reports.

    query = restrict(query, principal, incidents.c.agency, incidents.c.area_code, incidents.c.legacy_area_code)
    ensure_in_scope(principal, row.agency, row.area_code, row.legacy_area_code)   # 404 outside

`operations_guard` protects the operations router as a whole until its endpoints take a principal:
admins and operators do everything, leaders read, agency officers read and act on one incident of
theirs at a time (`/api/incidents/{incident_id}...`) and nothing else.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import ColumnElement, Engine, Select, select

from cityops.api.auth import READERS, SAFE_METHODS, WRITERS, authenticate, check, problem
from cityops.api.state import kernel_of
from cityops.core.access import Principal, Role
from cityops.core.events import AlertCleared, AlertRaised, Event, IncidentChanged
from cityops.core.schema_operations import alerts, incidents

S = TypeVar("S", bound=Select[Any])


def restrict(query: S, principal: Principal, agency: ColumnElement[Any], *areas: ColumnElement[Any]) -> S:
    """`query` limited to what `principal` may see (unchanged for unrestricted roles)."""
    if principal.scope is None:
        return query
    return query.where(principal.scope.where(agency, *areas))


def ensure_in_scope(principal: Principal, agency: str | None, *area_codes: str | None) -> None:
    """404 when the object is outside `principal`'s scope (404, not 403: its existence stays unknown)."""
    if principal.scope is not None and not principal.scope.allows(agency, *area_codes):
        raise problem(404, "not_found")


def _incident_place(engine: Engine, incident_id: int) -> tuple[str | None, str | None, str | None] | None:
    query = select(incidents.c.agency, incidents.c.area_code, incidents.c.legacy_area_code).where(
        incidents.c.id == incident_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (row.agency, row.area_code, row.legacy_area_code)


async def operations_guard(
    request: Request, principal: Annotated[Principal | None, Depends(authenticate)]
) -> Principal:
    safe = request.method in SAFE_METHODS
    if principal is None or principal.role is not Role.AGENCY_OFFICER:
        return check(request, principal, READERS if safe else WRITERS, viewer=safe)
    raw_id = request.path_params.get("incident_id")
    if not request.url.path.startswith("/api/incidents/") or raw_id is None or not str(raw_id).isdigit():
        raise problem(403, "forbidden", role=principal.role.value, allowed=sorted(r.value for r in WRITERS))
    place = await anyio.to_thread.run_sync(_incident_place, kernel_of(request).engine, int(raw_id))
    if place is None:
        raise problem(404, "not_found")
    ensure_in_scope(principal, *place)
    return principal


def event_visible(engine: Engine, principal: Principal, event: Event) -> bool:
    """Whether a live-feed event may go to `principal`: alerts and incidents of its scope only."""
    scope = principal.scope
    if scope is None or not isinstance(event, AlertRaised | AlertCleared | IncidentChanged):
        return True
    if isinstance(event, IncidentChanged):
        if scope.allows(None, event.area_code):
            return True
        place = _incident_place(engine, event.incident_id)
        return place is not None and scope.allows(*place)
    if isinstance(event, AlertRaised) and scope.allows(None, event.area_code):
        return True
    query = select(alerts.c.area_code, alerts.c.legacy_area_code).where(alerts.c.id == event.alert_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return row is not None and scope.allows(None, row.area_code, row.legacy_area_code)
