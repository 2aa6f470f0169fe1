"""Keeping agency officers to their agency and areas, for the routers that serve incidents and reports.

    query = restrict(query, principal, incidents.c.agency, incidents.c.area_code, incidents.c.legacy_area_code)
    ensure_in_scope(principal, row.agency, row.area_code, row.legacy_area_code)   # 404 outside

`incident_place` reads what `ensure_in_scope` needs of one incident without loading the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import ColumnElement, Engine, Select, select

from cityops.api.auth import (
    READERS,
    SAFE_METHODS,
    WRITERS,
    authenticate,
    bearer_scheme,
    check,
    problem,
    session_scheme,
)
from cityops.core.access.accounts import Principal, Role
from cityops.core.domain import Domain
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


def incident_place(engine: Engine, incident_id: int) -> tuple[str | None, str | None, str | None] | None:
    """(agency, area code, legacy area code) of an incident, for `ensure_in_scope`; None if there is none."""
    query = select(incidents.c.agency, incidents.c.area_code, incidents.c.legacy_area_code).where(
        incidents.c.id == incident_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (row.agency, row.area_code, row.legacy_area_code)


def domain_guard(domain: Domain) -> Callable[..., Awaitable[Principal | None]]:
    """A domain router's guard: its `public_paths` are open to everyone (no sign-in, no CSRF: nobody is
    acting there); elsewhere people read, admins and operators change, agency officers change too
    where the domain says it scopes them, and device tokens send to the domain's `device_paths`. The checked principal is left on `request.state.principal`."""
    prefix = f"/api/{domain.name}"
    public = tuple(prefix + path for path in domain.public_paths)
    writers = WRITERS | {Role.AGENCY_OFFICER} if domain.scoped_officers else WRITERS
    # The matched route's path is the declared one, with or without the prefix (by FastAPI version).
    device_paths = frozenset(domain.device_paths) | {prefix + path for path in domain.device_paths}

    async def dependency(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        session_id: Annotated[str | None, Depends(session_scheme)],
    ) -> Principal | None:
        if request.url.path.startswith(public):
            return None
        found = await authenticate(request, bearer, session_id)
        safe = request.method in SAFE_METHODS
        route = request.scope.get("route")
        for_devices = getattr(route, "path", None) in device_paths
        allowed = READERS if safe else (writers | {Role.DEVICE} if for_devices else writers)
        principal = check(request, found, allowed, viewer=safe)
        request.state.principal = principal
        return principal

    return dependency


def event_visible(engine: Engine, principal: Principal, event: Event) -> bool:
    """Whether a live-feed event may go to `principal`: alerts and incidents of its scope only."""
    scope = principal.scope
    if scope is None or not isinstance(event, AlertRaised | AlertCleared | IncidentChanged):
        return True
    if isinstance(event, IncidentChanged):
        if scope.allows(None, event.area_code):
            return True
        place = incident_place(engine, event.incident_id)
        return place is not None and scope.allows(*place)
    if isinstance(event, AlertRaised) and scope.allows(None, event.area_code):
        return True
    query = select(alerts.c.area_code, alerts.c.legacy_area_code).where(alerts.c.id == event.alert_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return row is not None and scope.allows(None, row.area_code, row.legacy_area_code)
