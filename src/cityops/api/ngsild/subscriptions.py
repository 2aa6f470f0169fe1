"""NGSI-LD subscriptions (ETSI GS CIM 009 clauses 5.2.12 and 5.8): `/ngsi-ld/v1/subscriptions`, kept in
the store (`ngsild_subscriptions`) with their delivery record; `notifications.py` sends what they ask for.

Subscriptions send data out of cityops to a URL of the subscriber's choosing, so only admins and
operators make and read them, and the endpoint passes the same outbound check as a camera's stream
(`core.outbound`: no loopback, private or metadata addresses unless the installation allows them).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import delete, func, insert, select, update

from cityops.api.auth import WRITERS, require
from cityops.api.ngsild import query_language
from cityops.api.ngsild.context import Context
from cityops.api.ngsild.errors import NgsiError, NgsiRoute, bad_data, not_found
from cityops.api.ngsild.exchange import TENANT_HEADER, context_of, read_json, respond, tenant_areas
from cityops.api.ngsild.finding import Selection, rename_terms
from cityops.api.ngsild.geoquery import GeoQuery, parse_geoquery
from cityops.api.ngsild.representation import iso, parse_time
from cityops.api.state import kernel_of, settings_of
from cityops.core.access.accounts import Principal
from cityops.core.kernel import Kernel
from cityops.core.outbound import OutboundRefused, check_outbound_url
from cityops.core.schema_subscriptions import subscriptions
from cityops.core.store import write_transaction
from cityops.core.text_limits import Uri

if TYPE_CHECKING:
    from cityops.api.ngsild.notifications import Notifier

FORMATS = ("normalized", "keyValues", "concise")
ACCEPTS = ("application/json", "application/ld+json")
MAX_SUBSCRIPTIONS = 1000  # per installation: each one is checked against every change
MAX_TEXT = 1000
MAX_LIST = 100
MIN_INTERVAL_S = 1.0

Writer = Annotated[Principal, Depends(require(WRITERS))]


@dataclass(frozen=True)
class Subscription:
    """A stored subscription, parsed once for the notifier."""

    id: str
    tenant: str | None
    body: dict[str, Any]
    selectors: tuple[tuple[str, str | None, str | None], ...]  # (type, id, idPattern)
    watched: frozenset[str] | None  # stored names
    q: query_language.Node | None
    geo: GeoQuery | None
    attributes: frozenset[str] | None  # stored names shown in notifications
    format: str
    uri: str
    accept: str
    throttling_s: float
    interval_s: float | None
    expires_ms: int | None
    active: bool

    @property
    def context(self) -> Context:
        return Context.build(list(self.body.get("@context") or []))

    def live(self, now_ms: int) -> bool:
        return self.active and (self.expires_ms is None or self.expires_ms > now_ms)

    def selection(self, areas: frozenset[str] | None) -> Selection:
        types = tuple({t for t, _, _ in self.selectors}) or None
        return Selection(types=types, q=self.q, geo=self.geo, areas=areas)


def _text(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
        raise bad_data(f"{name}: a text of at most {MAX_TEXT} characters")


def _names(raw: Any, field_name: str) -> list[str]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST:
        raise bad_data(f"{field_name}: a non-empty list of at most {MAX_LIST} attribute names")
    if not all(isinstance(n, str) and 0 < len(n) <= 256 for n in raw):
        raise bad_data(f"{field_name}: each item is an attribute name")
    return list(raw)


def _seconds(body: dict[str, Any], name: str, minimum: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum or value > 86_400:
        raise bad_data(f"{name}: a number of seconds from {minimum:g} to 86400")
    return float(value)


def parse(body: Any, context: Context, allow_private: bool, now_ms: int) -> Subscription:
    """Check a subscription body (clause 5.2.12) and parse what the notifier needs; stored names are the
    context's expansions compacted back to cityops's names."""
    if not isinstance(body, dict):
        raise bad_data("the body must be a JSON object")
    if body.get("type") != "Subscription":
        raise bad_data("type: must be 'Subscription'")
    subscription_id = body.get("id") or f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    if not isinstance(subscription_id, str) or ":" not in subscription_id or len(subscription_id) > 256:
        raise bad_data("id: must be a URI of at most 256 characters")
    for name in ("description", "subscriptionName", "name"):
        _text(body, name)
    selectors: list[tuple[str, str | None, str | None]] = []
    raw_entities = body.get("entities")
    if raw_entities is not None:
        if not isinstance(raw_entities, list) or not raw_entities or len(raw_entities) > MAX_LIST:
            raise bad_data(f"entities: a non-empty list of at most {MAX_LIST} entity selectors")
        for selector in raw_entities:
            if not isinstance(selector, dict) or not isinstance(selector.get("type"), str):
                raise bad_data("entities: each selector needs a type")
            entity_id, pattern = selector.get("id"), selector.get("idPattern")
            if entity_id is not None and not isinstance(entity_id, str):
                raise bad_data("entities: id must be a URI")
            if pattern is not None:
                if not isinstance(pattern, str) or len(pattern) > 500:
                    raise bad_data(
                        "entities: idPattern must be a regular expression of at most 500 characters"
                    )
                _compile(pattern)
            selectors.append((context.stored_name(selector["type"]), entity_id, pattern))
    watched = body.get("watchedAttributes")
    watched_names = (
        None if watched is None else [context.stored_name(n) for n in _names(watched, "watchedAttributes")]
    )
    if not selectors and watched_names is None:
        raise bad_data("entities or watchedAttributes: a subscription needs at least one of them")
    q = None
    if body.get("q") is not None:
        if not isinstance(body["q"], str):
            raise bad_data("q: must be a query text")
        try:
            q = rename_terms(query_language.parse(body["q"]), context)
        except query_language.QueryError as exc:
            raise bad_data(str(exc)) from None
    geo = None
    if body.get("geoQ") is not None:
        raw = body["geoQ"]
        if not isinstance(raw, dict):
            raise bad_data("geoQ: must be an object with geometry, coordinates and georel")
        coordinates = raw.get("coordinates")
        geo = parse_geoquery(
            raw.get("georel"),
            raw.get("geometry"),
            coordinates
            if isinstance(coordinates, str) or coordinates is None
            else orjson.dumps(coordinates).decode(),
            raw.get("geoproperty"),
        )
    notification = body.get("notification")
    if not isinstance(notification, dict):
        raise bad_data("notification: required, with an endpoint")
    endpoint = notification.get("endpoint")
    if not isinstance(endpoint, dict) or not isinstance(endpoint.get("uri"), str):
        raise bad_data("notification.endpoint.uri: required")
    uri = endpoint["uri"]
    if len(uri) > 2000:
        raise bad_data("notification.endpoint.uri: at most 2000 characters")
    try:
        check_outbound_url(uri, ("http", "https"), allow_private)
    except OutboundRefused as refused:
        raise bad_data(f"notification.endpoint.uri: {refused}") from None
    accept = endpoint.get("accept", "application/json")
    if accept not in ACCEPTS:
        raise bad_data(f"notification.endpoint.accept: one of {list(ACCEPTS)}")
    form = notification.get("format", "normalized")
    if form not in FORMATS:
        raise bad_data(f"notification.format: one of {list(FORMATS)}")
    shown = notification.get("attributes")
    attributes = (
        None
        if shown is None
        else frozenset(context.stored_name(n) for n in _names(shown, "notification.attributes"))
    )
    throttling = _seconds(body, "throttling", 0.0) or 0.0
    interval = _seconds(body, "timeInterval", MIN_INTERVAL_S)
    if interval is not None and (watched_names is not None or throttling):
        raise bad_data("timeInterval: not together with watchedAttributes or throttling")
    expires_ms = None
    if body.get("expiresAt") is not None:
        expires_ms = parse_time(body["expiresAt"], "expiresAt")
        if expires_ms <= now_ms:
            raise bad_data("expiresAt: must be in the future")
    active = body.get("isActive", True)
    if not isinstance(active, bool):
        raise bad_data("isActive: true or false")
    stored = {key: value for key, value in body.items() if key != "@context"}
    stored["id"] = subscription_id
    stored["@context"] = context.user
    return Subscription(
        id=subscription_id,
        tenant=None,
        body=stored,
        selectors=tuple(selectors),
        watched=None if watched_names is None else frozenset(watched_names),
        q=q,
        geo=geo,
        attributes=attributes,
        format=form,
        uri=uri,
        accept=accept,
        throttling_s=throttling,
        interval_s=interval,
        expires_ms=expires_ms,
        active=active,
    )


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise bad_data(f"entities: idPattern is not a regular expression ({exc})") from None


def from_row(row: Any) -> Subscription:
    body = dict(row.body)
    context = Context.build(list(body.get("@context") or []))
    parsed = parse(body, context, allow_private=True, now_ms=0)
    return replace(parsed, tenant=row.tenant, active=bool(row.active), expires_ms=row.expires_ms)


def shown(row: Any) -> dict[str, Any]:
    """The subscription as the API returns it, with its status and delivery record."""
    body = {k: v for k, v in dict(row.body).items() if k != "@context"}
    now_ms = int(time.time() * 1000)
    expired = row.expires_ms is not None and row.expires_ms <= now_ms
    body["isActive"] = bool(row.active)
    body["status"] = "expired" if expired else ("active" if row.active else "paused")
    notification = dict(body.get("notification", {}))
    notification["timesSent"] = row.times_sent
    notification["timesFailed"] = row.times_failed
    for member, value in (
        ("lastNotification", row.last_notification_ms),
        ("lastSuccess", row.last_success_ms),
        ("lastFailure", row.last_failure_ms),
    ):
        if value is not None:
            notification[member] = iso(value)
    if row.times_sent:
        notification["status"] = (
            "failed" if row.last_failure_ms and row.last_failure_ms == row.last_notification_ms else "ok"
        )
    body["notification"] = notification
    if row.tenant is not None:
        body["tenant"] = row.tenant
    body["createdAt"] = iso(row.created_ms)
    body["modifiedAt"] = iso(row.modified_ms)
    return body


# --- routes -----------------------------------------------------------------------------------------
router = APIRouter(route_class=NgsiRoute, tags=["NGSI-LD"])


def _tenant(request: Request) -> str | None:
    tenant = request.headers.get(TENANT_HEADER)
    return tenant or None


def _row(kernel: Kernel, subscription_id: str, tenant: str | None) -> Any:
    with kernel.engine.connect() as conn:
        row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).first()
    if row is None or row.tenant != tenant:
        raise not_found(subscription_id, "subscription")
    return row


@router.post("/ngsi-ld/v1/subscriptions", status_code=201, summary="Create a subscription")
async def create_subscription(request: Request, principal: Writer) -> Response:
    kernel, settings = kernel_of(request), settings_of(request)
    body = await read_json(request)
    context = context_of(request, body)
    tenant = _tenant(request)
    if tenant is not None:
        await anyio.to_thread.run_sync(tenant_areas, kernel, tenant)
    now_ms = kernel.now_ms()
    parsed = parse(body, context, settings.outbound_private_allowed, now_ms)

    def store() -> None:
        with write_transaction(kernel.engine) as conn:
            if (
                conn.execute(select(func.count()).select_from(subscriptions)).scalar_one()
                >= MAX_SUBSCRIPTIONS
            ):
                raise NgsiError("OperationNotSupported", f"at most {MAX_SUBSCRIPTIONS} subscriptions")
            if conn.execute(select(subscriptions.c.id).where(subscriptions.c.id == parsed.id)).first():
                raise NgsiError("AlreadyExists", f"subscription {parsed.id} exists")
            conn.execute(
                insert(subscriptions).values(
                    id=parsed.id,
                    tenant=tenant,
                    owner=principal.actor,
                    body=parsed.body,
                    active=parsed.active,
                    expires_ms=parsed.expires_ms,
                    created_ms=now_ms,
                    modified_ms=now_ms,
                    times_sent=0,
                    times_failed=0,
                )
            )

    await anyio.to_thread.run_sync(store)
    notifier_of(request).changed()
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/subscriptions/{parsed.id}"})


@router.get("/ngsi-ld/v1/subscriptions", summary="List subscriptions")
async def list_subscriptions(
    request: Request,
    _principal: Writer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    count: bool = False,
) -> Response:
    kernel, tenant = kernel_of(request), _tenant(request)

    def read() -> tuple[list[dict[str, Any]], int]:
        where = subscriptions.c.tenant.is_(None) if tenant is None else subscriptions.c.tenant == tenant
        with kernel.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(subscriptions).where(where)).scalar_one()
            rows = conn.execute(
                select(subscriptions)
                .where(where)
                .order_by(subscriptions.c.created_ms, subscriptions.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return [shown(row) for row in rows], int(total)

    body, total = await anyio.to_thread.run_sync(read)
    headers = {"NGSILD-Results-Count": str(total)} if count else None
    return respond(request, body, context_of(request), headers=headers)


@router.get("/ngsi-ld/v1/subscriptions/{subscription_id}", summary="Retrieve a subscription and its status")
async def get_subscription(request: Request, _principal: Writer, subscription_id: Uri) -> Response:
    row = await anyio.to_thread.run_sync(_row, kernel_of(request), subscription_id, _tenant(request))
    return respond(request, shown(row), context_of(request))


@router.patch("/ngsi-ld/v1/subscriptions/{subscription_id}", status_code=204, summary="Update a subscription")
async def update_subscription(request: Request, _principal: Writer, subscription_id: Uri) -> Response:
    kernel, settings, tenant = kernel_of(request), settings_of(request), _tenant(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not body:
        raise bad_data("the body must be a JSON object with the members to change")
    if ("id" in body and body["id"] != subscription_id) or (
        "type" in body and body["type"] != "Subscription"
    ):
        raise bad_data("id and type cannot change")
    context = context_of(request, body)
    row = await anyio.to_thread.run_sync(_row, kernel, subscription_id, tenant)
    merged = {**dict(row.body), **{k: v for k, v in body.items() if k != "@context"}}
    merged["@context"] = (
        context.user if "@context" in body or request.headers.get("link") else row.body.get("@context")
    )
    now_ms = kernel.now_ms()
    parsed = parse(
        merged, Context.build(list(merged["@context"] or [])), settings.outbound_private_allowed, now_ms
    )

    def store() -> None:
        with write_transaction(kernel.engine) as conn:
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(
                    body=parsed.body, active=parsed.active, expires_ms=parsed.expires_ms, modified_ms=now_ms
                )
            )

    await anyio.to_thread.run_sync(store)
    notifier_of(request).changed()
    return Response(status_code=204)


@router.delete(
    "/ngsi-ld/v1/subscriptions/{subscription_id}", status_code=204, summary="Delete a subscription"
)
async def delete_subscription(request: Request, _principal: Writer, subscription_id: Uri) -> Response:
    kernel, tenant = kernel_of(request), _tenant(request)
    await anyio.to_thread.run_sync(_row, kernel, subscription_id, tenant)

    def remove() -> None:
        with write_transaction(kernel.engine) as conn:
            conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))

    await anyio.to_thread.run_sync(remove)
    notifier_of(request).changed()
    return Response(status_code=204)


def notifier_of(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.ngsild_notifier
    return notifier
