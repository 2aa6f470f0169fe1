"""Accounts, tokens and the audit log over HTTP: admins manage accounts and read the audit log; every
person manages their own API tokens; admins also issue device tokens and tokens for others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Connection

from cityops.api.auth import Admin, Person
from cityops.api.state import kernel_of, settings_of
from cityops.core import audit
from cityops.core.access.accounts import (
    AccessConflict,
    AccessError,
    AccessNotFound,
    NewUser,
    Role,
    create_user,
    fetch_user,
    list_users,
    set_password,
    update_user,
    user_to_dict,
)
from cityops.core.access.tokens import issue_token, list_tokens, revoke_token
from cityops.core.store import write_transaction
from cityops.core.text_limits import Key

router = APIRouter(tags=["access"])
T = TypeVar("T")
PersonRole = Literal["admin", "operator", "leader", "agency_officer"]
AreaCode = Annotated[str, Field(max_length=64)]


async def _in_transaction(request: Request, work: Callable[[Connection], T]) -> T:
    """Run `work` in one transaction off the event loop; the core's errors become 4xx answers."""
    engine = kernel_of(request).engine

    def run() -> T:
        with write_transaction(engine) as conn:
            return work(conn)

    try:
        return await anyio.to_thread.run_sync(run)
    except AccessError as exc:
        error = {"loc": ["body", exc.field], "field": exc.field, "msg": exc.message}
        raise HTTPException(422, detail=[error]) from None
    except AccessNotFound as exc:
        raise HTTPException(404, detail=f"not found: {exc.args[0]}") from None
    except AccessConflict as exc:
        raise HTTPException(409, detail=str(exc)) from None


# --- users -----------------------------------------------------------------------------------------
class UserIn(BaseModel):
    username: Annotated[str, Field(min_length=2, max_length=64, description="a–z, digits, '.', '_', '-'")]
    role: PersonRole
    display_name: Annotated[str, Field(max_length=200)] = ""
    agency_code: Annotated[str | None, Field(max_length=64, description="agency officers only")] = None
    area_codes: Annotated[list[AreaCode], Field(max_length=100, description="agency officers only")] = []
    password: Annotated[str | None, Field(max_length=1024, description="leave out: token-only account")] = (
        None
    )


class UserChangesIn(BaseModel):
    display_name: Annotated[str | None, Field(max_length=200)] = None
    role: PersonRole | None = None
    agency_code: Annotated[str | None, Field(max_length=64)] = None
    area_codes: Annotated[list[AreaCode] | None, Field(max_length=100)] = None
    disabled: bool | None = None
    password: Annotated[str | None, Field(max_length=1024, description="a new password (ends sessions)")] = (
        None
    )

    @field_validator("display_name", "role", "area_codes", "disabled", "password", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """Leaving a field out keeps it; only `agency_code` may be cleared with null."""
        if value is None:
            raise ValueError("may not be null: leave the field out to keep it")
        return value


@router.get("/api/users", summary="Accounts (admin)")
async def get_users(request: Request, principal: Admin) -> list[dict[str, Any]]:
    return await _in_transaction(request, list_users)


@router.post("/api/users", status_code=201, summary="Create an account (admin)")
async def post_user(request: Request, principal: Admin, body: UserIn) -> dict[str, Any]:
    new = NewUser(
        username=body.username,
        role=Role(body.role),
        display_name=body.display_name,
        agency_code=body.agency_code,
        area_codes=tuple(body.area_codes),
        password=body.password,
    )
    minimum = settings_of(request).access.min_password_length
    return await _in_transaction(request, lambda conn: create_user(conn, new, principal.actor, minimum))


@router.get("/api/users/{username}", summary="One account (admin)")
async def get_user(request: Request, principal: Admin, username: Key) -> dict[str, Any]:
    return await _in_transaction(request, lambda conn: user_to_dict(fetch_user(conn, username)))


@router.patch(
    "/api/users/{username}",
    summary="Change an account (admin): role, agency and areas, disabled, display name, password",
)
async def patch_user(
    request: Request, principal: Admin, username: Key, body: UserChangesIn
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    if not changes and password is None:
        raise HTTPException(422, detail=[{"loc": ["body"], "field": "body", "msg": "nothing to change"}])
    minimum = settings_of(request).access.min_password_length

    def work(conn: Connection) -> dict[str, Any]:
        if password is not None:
            set_password(conn, username, password, principal.actor, minimum)
        if changes:
            return update_user(conn, username, changes, principal.actor)
        return user_to_dict(fetch_user(conn, username))

    return await _in_transaction(request, work)


# --- tokens ----------------------------------------------------------------------------------------
class TokenIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100, description="what or who uses it")]
    kind: Literal["user", "device"] = "user"
    username: Annotated[
        str | None, Field(max_length=64, description="the account a user token acts for (default: yours)")
    ] = None
    expires_days: Annotated[int | None, Field(ge=1, le=3650)] = None


@router.get("/api/tokens", summary="API tokens: all of them for an admin, one's own otherwise")
async def get_tokens(request: Request, principal: Person) -> list[dict[str, Any]]:
    owner = None if principal.role is Role.ADMIN else principal.user_id
    return await _in_transaction(request, lambda conn: list_tokens(conn, owner))


@router.post(
    "/api/tokens",
    status_code=201,
    summary="Issue a token, shown once in `token`; device tokens and others' tokens: admins only",
)
async def post_token(request: Request, principal: Person, body: TokenIn) -> dict[str, Any]:
    username = body.username if body.kind == "device" or body.username else principal.name
    for_someone_else = username is not None and username.strip().lower() != principal.name
    if principal.role is not Role.ADMIN and (body.kind == "device" or for_someone_else):
        raise HTTPException(403, detail="only an admin issues device tokens or tokens for other accounts")

    def work(conn: Connection) -> dict[str, Any]:
        issued = issue_token(conn, body.name, body.kind, username, principal.actor, body.expires_days)
        return {**issued.token, "token": issued.secret}

    return await _in_transaction(request, work)


@router.delete("/api/tokens/{token_id}", summary="Revoke a token (one's own; any for an admin)")
async def delete_token(request: Request, principal: Person, token_id: int) -> dict[str, Any]:
    owner = None if principal.role is Role.ADMIN else principal.user_id
    return await _in_transaction(request, lambda conn: revoke_token(conn, token_id, principal.actor, owner))


# --- audit -----------------------------------------------------------------------------------------
def _ms(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise HTTPException(
            422, detail=[{"loc": ["query", "since/until"], "msg": "give a time zone, e.g. +07:00 or Z"}]
        )
    return int(value.timestamp() * 1000)


@router.get("/api/audit", summary="The audit log, newest first (admin)")
async def get_audit(
    request: Request,
    principal: Admin,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. user.create")] = None,
    object: Annotated[str | None, Query(max_length=300, description="e.g. incident:42")] = None,
    object_prefix: Annotated[str | None, Query(max_length=300, description="e.g. entity:")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 with time zone")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 with time zone")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    where = audit.AuditFilter(actor, action, object, object_prefix, _ms(since), _ms(until))
    total, items = await _in_transaction(request, lambda conn: audit.read(conn, where, limit, offset))
    return {"total": total, "items": items}
