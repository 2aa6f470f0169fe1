"""Web sessions: created only by a successful login (with a new id every time, so a session id planted
before login is worthless), ended by logout, idleness or age. Each carries its CSRF token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, or_, select

from cityops.core.access.accounts import AccessSettings, Principal, now_ms, principal_of_user
from cityops.core.access.schema import sessions, users
from cityops.core.access.tokens import digest


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    csrf_token: str
    created_ms: int
    expires_ms: int


@dataclass(frozen=True, slots=True)
class NewSession:
    session_id: str  # the cookie value, never stored
    csrf_token: str


def create_session(
    conn: Connection, user_id: int, settings: AccessSettings, address: str | None, replaces: str | None = None
) -> NewSession:
    """A fresh session for `user_id`; the session `replaces` (the cookie sent with the login) ends."""
    now = now_ms()
    idle_ms = settings.session_idle_minutes * 60_000
    stale = or_(sessions.c.expires_ms <= now, sessions.c.last_seen_ms <= now - idle_ms)
    conn.execute(delete(sessions).where(stale))
    if replaces:
        conn.execute(delete(sessions).where(sessions.c.id_hash == digest(replaces)))
    new = NewSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    conn.execute(
        insert(sessions).values(
            id_hash=digest(new.session_id),
            user_id=user_id,
            csrf_token=new.csrf_token,
            created_ms=now,
            last_seen_ms=now,
            expires_ms=now + settings.session_max_hours * 3_600_000,
            address=None if address is None else address[:64],
        )
    )
    return new


def resolve_session(
    conn: Connection, session_id: str, settings: AccessSettings, seen_ms: int | None = None
) -> Session | None:
    """The live session behind a cookie; None when unknown, expired, idle too long or its account disabled.
    Only reads (ended sessions are deleted by the next login): `seen_ms` is when it was last seen if that
    is newer than the stored time (`cityops.core.access.usage`)."""
    if not 20 <= len(session_id) <= 100:
        return None
    row = conn.execute(select(sessions).where(sessions.c.id_hash == digest(session_id))).first()
    now = now_ms()
    if row is None:
        return None
    last_seen = max(row.last_seen_ms, seen_ms or 0)
    if row.expires_ms <= now or last_seen <= now - settings.session_idle_minutes * 60_000:
        return None
    user = conn.execute(select(users).where(users.c.id == row.user_id)).first()
    if user is None or user.disabled:
        return None
    return Session(principal_of_user(conn, user), row.csrf_token, row.created_ms, row.expires_ms)


def end_session(conn: Connection, session_id: str) -> bool:
    """End the session behind a cookie; whether there was one."""
    result = conn.execute(delete(sessions).where(sessions.c.id_hash == digest(session_id)))
    return result.rowcount > 0
