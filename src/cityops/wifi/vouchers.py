"""RADIUS users of a tenant: printed vouchers, named accounts, and phone sign-ins (captive portal).

A voucher's code is both its User-Name and its password, kept as it is (it is printed on a card, and
CHAP needs it). An account's password is kept as an argon2id hash, so it signs in with PAP only.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, insert, select

from cityops.core import audit
from cityops.core.access.accounts import hash_password
from cityops.wifi.errors import WifiError
from cityops.wifi.registry import SLUG, now_ms, plan_of, tenant_by_slug
from cityops.wifi.schema import plans, radius_users, tenants
from cityops.wifi.tenancy import TenantView

# No 0/O, 1/I/L: read off a card and typed on a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_BATCH = 500


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class VouchersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: Annotated[str, Field(pattern=SLUG)]
    plan: Annotated[str, Field(min_length=1, max_length=100)]
    count: Annotated[int, Field(ge=1, le=MAX_BATCH)] = 1
    valid_hours: Annotated[int, Field(ge=1, le=366 * 24)] = 24


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: Annotated[str, Field(pattern=SLUG)]
    plan: Annotated[str, Field(min_length=1, max_length=100)]
    username: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._@-]{2,63}$")]
    password: Annotated[str, Field(min_length=8, max_length=128)]
    valid_until_ms: int | None = None


def _insert(conn: Connection, tenant_id: int, plan_id: int, actor: str, **values: Any) -> None:
    conn.execute(
        insert(radius_users).values(
            tenant_id=tenant_id,
            plan_id=plan_id,
            disabled=False,
            created_ms=now_ms(),
            created_by=actor,
            **values,
        )
    )


def create_vouchers(conn: Connection, view: TenantView, body: VouchersIn, actor: str) -> list[dict[str, Any]]:
    tenant = tenant_by_slug(conn, view, body.tenant)
    plan = plan_of(conn, tenant.id, body.plan)
    valid_until = now_ms() + body.valid_hours * 3_600_000
    codes: list[str] = []
    while len(codes) < body.count:
        code = new_code()
        if conn.execute(select(radius_users.c.id).where(radius_users.c.username == code)).first():
            continue
        _insert(
            conn,
            tenant.id,
            plan.id,
            actor,
            username=code,
            kind="voucher",
            password=code,
            valid_until_ms=valid_until,
        )
        codes.append(code)
    audit.record(
        conn,
        actor,
        "wifi_voucher.create",
        f"wifi_tenant:{body.tenant}",
        None,
        {"plan": body.plan, "count": body.count, "valid_until_ms": valid_until},  # never the codes
    )
    return [{"code": code, "plan": body.plan, "valid_until_ms": valid_until} for code in codes]


def create_account(conn: Connection, view: TenantView, body: AccountIn, actor: str) -> dict[str, Any]:
    tenant = tenant_by_slug(conn, view, body.tenant)
    plan = plan_of(conn, tenant.id, body.plan)
    if conn.execute(select(radius_users.c.id).where(radius_users.c.username == body.username)).first():
        raise WifiError(409, "username", "is taken")
    _insert(
        conn,
        tenant.id,
        plan.id,
        actor,
        username=body.username,
        kind="account",
        password_hash=hash_password(body.password),
        valid_until_ms=body.valid_until_ms,
    )
    shown = {"username": body.username, "tenant": body.tenant, "plan": body.plan}
    audit.record(conn, actor, "wifi_account.create", f"wifi_user:{body.username}", None, shown)
    return shown


def list_users(conn: Connection, view: TenantView, limit: int, offset: int) -> list[dict[str, Any]]:
    query = (
        select(
            radius_users.c.username,
            radius_users.c.kind,
            radius_users.c.valid_until_ms,
            radius_users.c.first_used_ms,
            radius_users.c.disabled,
            tenants.c.slug,
            plans.c.name.label("plan"),
        )
        .join(tenants, tenants.c.id == radius_users.c.tenant_id)
        .join(plans, plans.c.id == radius_users.c.plan_id)
        .where(view.where(radius_users.c.tenant_id))
        .order_by(radius_users.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        {
            # A phone sign-in's name is random; its number is never listed.
            "username": row.username,
            "kind": row.kind,
            "tenant": row.slug,
            "plan": row.plan,
            "valid_until_ms": row.valid_until_ms,
            "first_used_ms": row.first_used_ms,
            "disabled": bool(row.disabled),
        }
        for row in conn.execute(query)
    ]
