"""The wifi API under `/api/wifi`.

FreeRADIUS (`/radius/...`, its own credentials) and the devices' heartbeats (`/devices/...`, each
device's key) pass the kernel's guard as public paths and authenticate themselves. Everything else is
the management API: the province's staff see every tenant, a business's staff only theirs
(`tenancy.py`), and another tenant's objects answer 404. Sessions never show a client's MAC address:
only a pseudonym (its keyed hash).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection, String, literal, select

from cityops.core.access.accounts import Principal
from cityops.core.entities import make_urn
from cityops.core.kernel import Kernel
from cityops.core.schema import entities
from cityops.core.store import write_transaction
from cityops.core.text_limits import Key
from cityops.wifi import figures, health, registry, vouchers
from cityops.wifi.errors import WifiError
from cityops.wifi.figures import URN_PREFIX
from cityops.wifi.portal_routes import build_portal_router
from cityops.wifi.privacy import HASH_PREFIX
from cityops.wifi.radius_routes import build_radius_router
from cityops.wifi.runtime import WifiRuntime, runtime_of
from cityops.wifi.schema import access_points, nas_clients, sessions, tenants
from cityops.wifi.tenancy import TenantView, view_of

T = TypeVar("T")


def acting(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal) or principal.anonymous:
        raise WifiError(401, "authorization", "sign in to see the wifi back office")
    return principal


def build_router(kernel: Kernel) -> APIRouter:
    runtime = runtime_of(kernel)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(runtime.run(), name="wifi-sweep")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    router = APIRouter(tags=["wifi"], lifespan=lifespan)
    router.include_router(build_radius_router(runtime))
    router.include_router(build_portal_router(runtime))
    add_device_routes(router, runtime)
    add_management_routes(router, runtime)
    return router


def failure(exc: WifiError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail()}, status_code=exc.status)


def add_device_routes(router: APIRouter, runtime: WifiRuntime) -> None:
    @router.post(
        "/devices/{ap_id}/heartbeat",
        status_code=204,
        summary="A device's heartbeat (NetJSON DeviceMonitoring-like), with its key as a Bearer token",
        max_body_size=health.HEARTBEAT_MAX_BYTES,  # refused before it is read or parsed
    )
    async def heartbeat(request: Request, ap_id: Key, body: health.Heartbeat) -> Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")

        def store() -> None:
            if scheme.lower() != "bearer" or not key:
                raise WifiError(
                    401, "authorization", "send the device's key as 'Authorization: Bearer <key>'"
                )
            with write_transaction(runtime.kernel.engine) as conn:
                health.record_heartbeat(conn, ap_id, key, body, runtime.now_ms())

        try:
            await anyio.to_thread.run_sync(store)
        except WifiError as exc:
            return failure(exc)
        return Response(status_code=204)


def add_management_routes(router: APIRouter, runtime: WifiRuntime) -> None:
    kernel = runtime.kernel
    engine = kernel.engine

    async def reading(request: Request, work: Callable[[Connection, TenantView], T]) -> T | JSONResponse:
        principal = acting(request)

        def run() -> T:
            with engine.connect() as conn:
                return work(conn, view_of(conn, principal))

        try:
            return await anyio.to_thread.run_sync(run)
        except WifiError as exc:
            return failure(exc)

    async def writing(request: Request, work: Callable[[Connection, TenantView, str], T]) -> T | JSONResponse:
        principal = acting(request)

        def run() -> T:
            with write_transaction(engine) as conn:
                view = view_of(conn, principal)
                if not view.can_write:
                    raise WifiError(403, "authorization", "your role reads the wifi back office only")
                return work(conn, view, principal.actor)

        try:
            return await anyio.to_thread.run_sync(run)
        except WifiError as exc:
            return failure(exc)

    @router.get("/tenants", summary="Tenants you may see")
    async def tenant_list(request: Request) -> Any:
        return await reading(request, registry.list_tenants)

    @router.post("/tenants", status_code=201, summary="A new tenant (the province's staff)")
    async def tenant_create(request: Request, body: registry.TenantIn) -> Any:
        return await writing(request, lambda c, v, a: registry.create_tenant(c, v, body, a))

    @router.get("/tenants/{slug}/plans", summary="A tenant's plans")
    async def plan_list(request: Request, slug: Key) -> Any:
        return await reading(request, lambda c, v: registry.list_plans(c, v, slug))

    @router.put("/tenants/{slug}/plans", summary="Create or change a plan (by name)")
    async def plan_put(request: Request, slug: Key, body: registry.PlanIn) -> Any:
        return await writing(request, lambda c, v, a: registry.put_plan(c, v, slug, body, a))

    @router.post("/tenants/{slug}/nas", status_code=201, summary="Register a NAS (RADIUS client)")
    async def nas_create(request: Request, slug: Key, body: registry.NasIn) -> Any:
        return await writing(request, lambda c, v, a: registry.create_nas(c, v, slug, body, a))

    @router.get("/nas", summary="NAS clients you may see (never their secrets)")
    async def nas_list(request: Request) -> Any:
        return await reading(request, registry.list_nas)

    @router.put(
        "/access-points/{ap_id}",
        summary="Create or change an access point; on creation the answer holds its heartbeat key, once",
    )
    async def access_point_put(request: Request, ap_id: Key, body: registry.AccessPointIn) -> Any:
        saved = await writing(request, lambda c, v, a: registry.put_access_point(c, v, ap_id, body, a))
        if isinstance(saved, JSONResponse):
            return saved
        row, key = saved
        lon, lat = body.location.coordinates if body.location else (None, None)
        attributes: dict[str, object] = {
            "tenant": body.tenant,
            "site": body.site,
            "ssids": body.ssids,
            "model": body.model,
        }
        _, area = await kernel.upsert_entity(
            make_urn("AccessPoint", ap_id), body.name, lon, lat, attributes, actor=acting(request).actor
        )
        return {**row, "area_code": area, **({"key": key} if key else {})}

    @router.get("/access-points", summary="Access points with their state and users now")
    async def access_point_list(request: Request) -> Any:
        def work(conn: Connection, view: TenantView) -> list[dict[str, Any]]:
            users = {s.id: s.users_now for s in runtime.last_states}
            query = (
                select(
                    access_points,
                    tenants.c.slug,
                    entities.c.name,
                    entities.c.lon,
                    entities.c.lat,
                    entities.c.area_code,
                )
                .join(tenants, tenants.c.id == access_points.c.tenant_id)
                .outerjoin(entities, entities.c.urn == literal(URN_PREFIX, String) + access_points.c.id)
                .where(view.where(access_points.c.tenant_id))
                .order_by(access_points.c.id)
            )
            return [
                {
                    "id": row.id,
                    "name": row.name,
                    "tenant": row.slug,
                    "location": None
                    if row.lon is None
                    else {"type": "Point", "coordinates": [row.lon, row.lat]},
                    "area_code": row.area_code,
                    "macAddress": row.mac,
                    "ssids": row.ssids,
                    "model": row.model,
                    "firmware": row.firmware,
                    "site": row.site,
                    "state": row.state,
                    "users_now": users.get(row.id, 0),
                    "last_heartbeat_ms": row.last_heartbeat_ms,
                    "last_accounting_ms": row.last_accounting_ms,
                }
                for row in conn.execute(query)
            ]

        return await reading(request, work)

    @router.get("/sites", summary="Sites (places several devices share): up, degraded, down or unknown")
    async def site_list(request: Request) -> Any:
        def work(conn: Connection, view: TenantView) -> list[dict[str, Any]]:
            query = select(access_points.c.site, access_points.c.state, tenants.c.slug).join(
                tenants, tenants.c.id == access_points.c.tenant_id
            )
            grouped: dict[tuple[str, str], list[bool | None]] = {}
            for row in conn.execute(query.where(view.where(access_points.c.tenant_id))):
                up = None if row.state == "unknown" else row.state == "up"
                grouped.setdefault((row.slug, row.site or "?"), []).append(up)
            return [
                {
                    "tenant": tenant,
                    "site": site,
                    "state": health.site_state(states),
                    "devices": len(states),
                    "down": sum(1 for s in states if s is False),
                }
                for (tenant, site), states in sorted(grouped.items())
            ]

        return await reading(request, work)

    @router.post("/vouchers", status_code=201, summary="Print vouchers for a plan (≤ 500 at once)")
    async def voucher_create(request: Request, body: vouchers.VouchersIn) -> Any:
        return await writing(request, lambda c, v, a: vouchers.create_vouchers(c, v, body, a))

    @router.post("/accounts", status_code=201, summary="A named wifi account (PAP only)")
    async def account_create(request: Request, body: vouchers.AccountIn) -> Any:
        return await writing(request, lambda c, v, a: vouchers.create_account(c, v, body, a))

    @router.get("/users", summary="Wifi users you may see (vouchers, accounts, phone sign-ins)")
    async def user_list(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Any:
        return await reading(request, lambda c, v: vouchers.list_users(c, v, limit, offset))

    @router.get("/sessions", summary="Sessions you may see, newest first; devices only as pseudonyms")
    async def session_list(
        request: Request,
        open_only: bool = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Any:
        def work(conn: Connection, view: TenantView) -> list[dict[str, Any]]:
            query = (
                select(sessions, tenants.c.slug, nas_clients.c.name.label("nas"))
                .join(tenants, tenants.c.id == sessions.c.tenant_id)
                .join(nas_clients, nas_clients.c.id == sessions.c.nas_id)
                .where(view.where(sessions.c.tenant_id))
                .order_by(sessions.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            if open_only:
                query = query.where(sessions.c.stopped_ms.is_(None))
            return [session_to_dict(runtime, row) for row in conn.execute(query)]

        return await reading(request, work)

    @router.get("/figures", summary="Today's figures per tenant, ward or hotspot")
    async def figure_list(request: Request, by: figures.Grouping = "tenant") -> Any:
        now = runtime.now_ms()
        return await reading(request, lambda c, v: figures.daily_figures(c, v, by, now))

    @router.post("/sweep", summary="Close stale sessions and judge hotspot health now (admins, operators)")
    async def sweep_now(request: Request) -> Any:
        checked = await reading(request, lambda c, v: v.province and v.can_write)
        if isinstance(checked, JSONResponse):
            return checked
        if not checked:
            return failure(WifiError(403, "authorization", "the province's staff only"))
        states = await runtime.sweep()
        return {"hotspots": len(states), "down": sum(1 for s in states if s.up is False)}


def session_to_dict(runtime: WifiRuntime, row: Any) -> dict[str, Any]:
    mac = row.client_mac
    device = (
        None if mac is None else (mac if mac.startswith(HASH_PREFIX) else runtime.personal.digest("mac", mac))
    )
    return {
        "id": row.id,
        "tenant": row.slug,
        "nas": row.nas,
        "access_point": row.access_point_id,
        "username": row.username,
        "device": device,
        "started_ms": row.started_ms,
        "updated_ms": row.updated_ms,
        "stopped_ms": row.stopped_ms,
        "session_seconds": row.session_seconds,
        "input_bytes": row.input_bytes,
        "output_bytes": row.output_bytes,
        "terminate_cause": row.terminate_cause,
    }
