"""Tenants, plans, NAS clients and access points: what the management API writes.

Access points are kernel entities too (`urn:ngsi-ld:AccessPoint:<id>`, located in their ward by the
kernel); each gets a heartbeat key, shown once, kept as its SHA-256.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, insert, select, update

from cityops.core import audit
from cityops.core.text_limits import Key, Label
from cityops.wifi.errors import WifiError, not_found
from cityops.wifi.freeradius_config import check_secret
from cityops.wifi.privacy import normalise_mac
from cityops.wifi.schema import access_points, nas_clients, plans, tenants
from cityops.wifi.tenancy import TenantView

SLUG = r"^[a-z0-9][a-z0-9-]{1,63}$"
AP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def now_ms() -> int:
    return int(time.time() * 1000)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["community", "business"]
    agency_code: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")] = None
    hash_personal_data: bool = True


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    session_seconds: Annotated[int | None, Field(ge=60, le=30 * 86_400)] = None
    daily_quota_mb: Annotated[int | None, Field(ge=1, le=10_000_000)] = None
    down_kbps: Annotated[int | None, Field(ge=64, le=10_000_000)] = None
    up_kbps: Annotated[int | None, Field(ge=64, le=10_000_000)] = None
    max_devices: Annotated[int | None, Field(ge=1, le=100)] = None


class NasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=SLUG)]
    ip_address: Key
    secret: Label

    @field_validator("ip_address")
    @classmethod
    def _address(cls, value: str) -> str:
        return str(ipaddress.ip_address(value.strip()))

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        check_secret(value)
        return value


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"]
    coordinates: Annotated[
        list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=2)
    ]


class AccessPointIn(BaseModel):
    """`PUT /api/wifi/access-points/{id}`: Smart Data Models `AccessPoint`-like."""

    model_config = ConfigDict(extra="forbid")

    tenant: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    macAddress: Key
    ssids: Annotated[list[Annotated[str, Field(min_length=1, max_length=32)]], Field(max_length=16)] = []
    model: Annotated[str | None, Field(max_length=100)] = None
    firmware: Annotated[str | None, Field(max_length=100)] = None
    location: Point | None = None
    nas: Annotated[str | None, Field(pattern=SLUG)] = None
    site: Annotated[str | None, Field(min_length=1, max_length=200)] = None

    @field_validator("macAddress")
    @classmethod
    def _mac(cls, value: str) -> str:
        mac = normalise_mac(value)
        if mac is None:
            raise ValueError("must be a MAC address such as 'aa:bb:cc:dd:ee:ff'")
        return mac


def tenant_by_slug(conn: Connection, view: TenantView, slug: str) -> Any:
    row = conn.execute(select(tenants).where(tenants.c.slug == slug)).first()
    if row is None or not view.allows(row.id):
        raise not_found("tenant")
    return row


def tenant_to_dict(row: Any) -> dict[str, Any]:
    return {
        "slug": row.slug,
        "name": row.name,
        "kind": row.kind,
        "agency_code": row.agency_code,
        "hash_personal_data": bool(row.hash_personal_data),
    }


def create_tenant(conn: Connection, view: TenantView, body: TenantIn, actor: str) -> dict[str, Any]:
    if not view.province:
        raise WifiError(403, "tenant", "only the province's staff create tenants")
    if conn.execute(select(tenants.c.id).where(tenants.c.slug == body.slug)).first() is not None:
        raise WifiError(409, "slug", f"tenant {body.slug!r} exists")
    if (
        body.agency_code is not None
        and conn.execute(select(tenants.c.id).where(tenants.c.agency_code == body.agency_code)).first()
    ):
        raise WifiError(409, "agency_code", "another tenant has this agency code")
    conn.execute(insert(tenants).values(**body.model_dump(), created_ms=now_ms()))
    created = tenant_to_dict(tenant_by_slug(conn, view, body.slug))
    audit.record(conn, actor, "wifi_tenant.create", f"wifi_tenant:{body.slug}", None, created)
    return created


def list_tenants(conn: Connection, view: TenantView) -> list[dict[str, Any]]:
    query = select(tenants).where(view.where(tenants.c.id)).order_by(tenants.c.slug)
    return [tenant_to_dict(row) for row in conn.execute(query)]


def plan_to_dict(row: Any) -> dict[str, Any]:
    quota = row.daily_quota_bytes
    return {
        "name": row.name,
        "session_seconds": row.session_seconds,
        "daily_quota_mb": None if quota is None else quota // 1_000_000,
        "down_kbps": row.down_kbps,
        "up_kbps": row.up_kbps,
        "max_devices": row.max_devices,
    }


def put_plan(conn: Connection, view: TenantView, slug: str, body: PlanIn, actor: str) -> dict[str, Any]:
    tenant = tenant_by_slug(conn, view, slug)
    values = body.model_dump(exclude={"daily_quota_mb"})
    values["daily_quota_bytes"] = None if body.daily_quota_mb is None else body.daily_quota_mb * 1_000_000
    existing = conn.execute(
        select(plans).where(plans.c.tenant_id == tenant.id, plans.c.name == body.name)
    ).first()
    if existing is None:
        conn.execute(insert(plans).values(tenant_id=tenant.id, **values))
    else:
        conn.execute(update(plans).where(plans.c.id == existing.id).values(**values))
    saved = plan_to_dict(
        conn.execute(select(plans).where(plans.c.tenant_id == tenant.id, plans.c.name == body.name)).one()
    )
    before = None if existing is None else plan_to_dict(existing)
    audit.record(conn, actor, "wifi_plan.put", f"wifi_plan:{slug}/{body.name}", before, saved)
    return saved


def plan_of(conn: Connection, tenant_id: int, name: str) -> Any:
    row = conn.execute(select(plans).where(plans.c.tenant_id == tenant_id, plans.c.name == name)).first()
    if row is None:
        raise WifiError(422, "plan", f"tenant has no plan {name!r}")
    return row


def list_plans(conn: Connection, view: TenantView, slug: str) -> list[dict[str, Any]]:
    tenant = tenant_by_slug(conn, view, slug)
    query = select(plans).where(plans.c.tenant_id == tenant.id).order_by(plans.c.name)
    return [plan_to_dict(row) for row in conn.execute(query)]


def create_nas(conn: Connection, view: TenantView, slug: str, body: NasIn, actor: str) -> dict[str, Any]:
    tenant = tenant_by_slug(conn, view, slug)
    for column, value in (("name", body.name), ("ip_address", body.ip_address)):
        if conn.execute(select(nas_clients.c.id).where(nas_clients.c[column] == value)).first() is not None:
            raise WifiError(409, column, f"another NAS has {column} {value!r}")
    conn.execute(insert(nas_clients).values(tenant_id=tenant.id, created_ms=now_ms(), **body.model_dump()))
    shown = {"tenant": slug, "name": body.name, "ip_address": body.ip_address}
    audit.record(conn, actor, "wifi_nas.create", f"wifi_nas:{body.name}", None, shown)  # never the secret
    return shown


def list_nas(conn: Connection, view: TenantView) -> list[dict[str, Any]]:
    query = (
        select(nas_clients.c.name, nas_clients.c.ip_address, tenants.c.slug)
        .join(tenants, tenants.c.id == nas_clients.c.tenant_id)
        .where(view.where(nas_clients.c.tenant_id))
        .order_by(nas_clients.c.name)
    )
    return [{"name": r.name, "ip_address": r.ip_address, "tenant": r.slug} for r in conn.execute(query)]


def put_access_point(
    conn: Connection, view: TenantView, ap_id: str, body: AccessPointIn, actor: str
) -> tuple[dict[str, Any], str | None]:
    """Create or update the tenant's row; returns it and the new heartbeat key (only when created).
    The caller registers the kernel entity."""
    if not AP_ID.match(ap_id):
        raise WifiError(422, "id", "must be 1–64 characters: letters, digits, '.', '_' or '-'")
    tenant = tenant_by_slug(conn, view, body.tenant)
    existing = conn.execute(select(access_points).where(access_points.c.id == ap_id)).first()
    if existing is not None and not view.allows(existing.tenant_id):
        raise WifiError(409, "id", "this id is taken")  # by another tenant: say no more
    if existing is not None and existing.tenant_id != tenant.id:
        raise WifiError(422, "tenant", "an access point does not move between tenants")
    taken = conn.execute(
        select(access_points.c.id).where(access_points.c.mac == body.macAddress, access_points.c.id != ap_id)
    ).first()
    if taken is not None:
        raise WifiError(409, "macAddress", "another access point has this MAC address")
    nas_id = None
    if body.nas is not None:
        nas = conn.execute(
            select(nas_clients.c.id).where(
                nas_clients.c.name == body.nas, nas_clients.c.tenant_id == tenant.id
            )
        ).first()
        if nas is None:
            raise WifiError(422, "nas", f"the tenant has no NAS {body.nas!r}")
        nas_id = nas.id
    values = {
        "tenant_id": tenant.id,
        "mac": body.macAddress,
        "ssids": body.ssids,
        "model": body.model,
        "firmware": body.firmware,
        "nas_id": nas_id,
        "site": body.site,
    }
    key = None
    if existing is None:
        key = secrets.token_urlsafe(32)
        conn.execute(
            insert(access_points).values(id=ap_id, key_hash=digest(key), created_ms=now_ms(), **values)
        )
    else:
        conn.execute(update(access_points).where(access_points.c.id == ap_id).values(**values))
    after = {**values, "tenant": body.tenant, "nas": body.nas}
    after.pop("tenant_id")
    after.pop("nas_id")
    audit.record(conn, actor, "wifi_access_point.put", f"wifi_access_point:{ap_id}", None, after)
    return {"id": ap_id, **after}, key
