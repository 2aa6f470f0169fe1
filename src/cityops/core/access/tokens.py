"""API tokens (`Authorization: Bearer cityops_…`): a user's token acts as that user; a device token may only
send data. A token is shown once when issued; the store keeps its SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Row, and_, insert, select, update

from cityops.core import audit
from cityops.core.access.accounts import (
    AccessConflict,
    AccessError,
    AccessNotFound,
    Principal,
    Role,
    fetch_user,
    now_ms,
)
from cityops.core.access.accounts import principal_of_user as _principal_of_user
from cityops.core.access.schema import api_tokens, users

TOKEN_PREFIX = "cityops_"
TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # 32 random bytes, URL-safe base64
TOKEN_KINDS = ("user", "device")
TokenKind = Literal["user", "device"]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    secret: str  # shown once, never stored
    token: dict[str, Any]


def token_to_dict(row: Row[Any], now: int | None = None) -> dict[str, Any]:
    now = now_ms() if now is None else now
    expired = row.expires_ms is not None and row.expires_ms <= now
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "username": row.username,
        "prefix": row.prefix,
        "created_ms": row.created_ms,
        "created_by": row.created_by,
        "expires_ms": row.expires_ms,
        "revoked_ms": row.revoked_ms,
        "last_used_ms": row.last_used_ms,
        "active": row.revoked_ms is None and not expired,
    }


def _with_owner() -> Any:
    return select(api_tokens, users.c.username).outerjoin(users, users.c.id == api_tokens.c.user_id)


def issue_token(
    conn: Connection,
    name: str,
    kind: str,
    username: str | None,
    actor: str,
    expires_days: int | None = None,
) -> IssuedToken:
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise AccessError("name", "must be 1–100 printable characters")
    if kind not in TOKEN_KINDS:
        raise AccessError("kind", f"must be one of {list(TOKEN_KINDS)}")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise AccessError("expires_days", "must be between 1 and 3650 days")
    user_id = None
    if kind == "user":
        if not username:
            raise AccessError("username", "a user token needs the account it acts for")
        user_id = fetch_user(conn, username).id
    elif username:
        raise AccessError("username", "a device token belongs to no account")
    else:
        active = and_(
            api_tokens.c.kind == "device", api_tokens.c.name == name, api_tokens.c.revoked_ms.is_(None)
        )
        if conn.execute(select(api_tokens.c.id).where(active)).first() is not None:
            raise AccessConflict(f"a device token named {name!r} is active: revoke it first")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = now_ms()
    token_id = conn.execute(
        insert(api_tokens).values(
            name=name,
            kind=kind,
            user_id=user_id,
            token_hash=digest(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 4],
            created_ms=now,
            created_by=actor[: audit.ACTOR_MAX],
            expires_ms=None if expires_days is None else now + expires_days * 86_400_000,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    token = token_to_dict(conn.execute(_with_owner().where(api_tokens.c.id == token_id)).one(), now)
    audit.record(conn, actor, "token.create", f"token:{token_id}", None, token, ts_ms=now)
    return IssuedToken(secret, token)


def list_tokens(conn: Connection, user_id: int | None = None) -> list[dict[str, Any]]:
    """Every token, or those of one account."""
    query = _with_owner().order_by(api_tokens.c.id)
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    now = now_ms()
    return [token_to_dict(row, now) for row in conn.execute(query)]


def revoke_token(conn: Connection, token_id: int, actor: str, owner_id: int | None = None) -> dict[str, Any]:
    """Revoke a token (for good). With `owner_id`, only a token of that account is found."""
    query = _with_owner().where(api_tokens.c.id == token_id)
    if owner_id is not None:
        query = query.where(api_tokens.c.user_id == owner_id)
    row = conn.execute(query).first()
    if row is None:
        raise AccessNotFound(f"token {token_id}")
    before = token_to_dict(row)
    if row.revoked_ms is not None:
        return before
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_ms=now_ms()))
    after = token_to_dict(conn.execute(_with_owner().where(api_tokens.c.id == token_id)).one())
    audit.record(conn, actor, "token.revoke", f"token:{token_id}", before, after)
    return after


def resolve_token(conn: Connection, secret: str) -> Principal | None:
    """The principal a bearer token acts as; None when unknown, revoked, expired or its account disabled.
    Only reads: the caller notes the use (`cityops.core.access.usage`)."""
    if len(secret) != TOKEN_LENGTH or not secret.startswith(TOKEN_PREFIX):
        return None
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest(secret))).first()
    now = now_ms()
    if row is None or row.revoked_ms is not None or (row.expires_ms is not None and row.expires_ms <= now):
        return None
    if row.kind == "device":
        return Principal(name=row.name, role=Role.DEVICE, token_id=row.id)
    user = conn.execute(select(users).where(users.c.id == row.user_id)).first()
    if user is None or user.disabled:
        return None
    return _principal_of_user(conn, user, token_id=row.id)
