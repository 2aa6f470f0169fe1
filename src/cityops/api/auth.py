"""Who is calling: bearer tokens for programs, cookie sessions (with CSRF protection) for the dashboard,
login with rate limiting, and the FastAPI dependencies every router declares.

    Reader    any person (admin, operator, leader, agency officer); the anonymous viewer too when
              `auth_required = false`
    Writer    admin or operator
    Ingestor  admin, operator or a device token (data points only: a device never creates, renames,
              un-retires or re-attributes entities; domains grant it more through `device_paths`)
    Admin     admin
    Person    any signed-in person (never the anonymous viewer)

A cookie-authenticated request with an unsafe method (POST, PUT, PATCH, DELETE) must carry the session's
CSRF token in the `X-CSRF-Token` header; the page reads it from the `cityops_csrf` cookie (or from the
login and `GET /api/auth/me` answers). Bearer requests need no CSRF token: browsers never add that header
on their own.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from cityops.api.state import kernel_of, settings_of
from cityops.core import audit
from cityops.core.access.accounts import (
    ANONYMOUS_VIEWER,
    HUMAN_ROLES,
    AccessError,
    Principal,
    Role,
    hash_password,
    needs_rehash,
    now_ms,
    principal_of_user,
    set_password,
    verify_password,
)
from cityops.core.access.schema import users
from cityops.core.access.sessions import NewSession, Session, create_session, end_session, resolve_session
from cityops.core.access.throttle import LoginThrottle
from cityops.core.access.tokens import digest, resolve_token
from cityops.core.access.usage import UsageLog
from cityops.core.store import write_transaction

log = logging.getLogger(__name__)
router = APIRouter(tags=["access"])

SESSION_COOKIE = "cityops_session"
CSRF_COOKIE = "cityops_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

READERS = HUMAN_ROLES
WRITERS = frozenset({Role.ADMIN, Role.OPERATOR})
INGESTORS = frozenset({Role.ADMIN, Role.OPERATOR, Role.DEVICE})
ADMINS = frozenset({Role.ADMIN})

MESSAGES: dict[str, tuple[str, str, str]] = {
    "not_authenticated": ("Cần đăng nhập", "Sign-in required", "ログインが必要です"),
    "bad_authorization": (
        "Dùng tiêu đề Authorization: Bearer <mã truy cập>",
        "Use the header Authorization: Bearer <token>",
        "Authorization: Bearer <トークン> ヘッダーを使ってください",
    ),
    "invalid_token": (
        "Mã truy cập không hợp lệ, đã bị thu hồi hoặc đã hết hạn",
        "The token is unknown, revoked or expired",
        "トークンが無効、失効済み、または期限切れです",
    ),
    "forbidden": (
        "Vai trò của bạn không được phép thực hiện thao tác này",
        "Your role may not do this",
        "このロールではこの操作はできません",
    ),
    "device_ingest_only": (
        "Mã thiết bị chỉ được gửi số liệu đo (POST /api/ingest) và những gì lĩnh vực cho phép",
        "Device tokens may only send data points (POST /api/ingest) and what a domain grants them",
        "デバイストークンは計測値の送信 (POST /api/ingest) と各ドメインが許可した操作のみ可能です",
    ),
    "csrf_failed": (
        "Thiếu hoặc sai mã chống giả mạo yêu cầu (tiêu đề X-CSRF-Token)",
        "Missing or wrong X-CSRF-Token header",
        "X-CSRF-Token ヘッダーがないか、正しくありません",
    ),
    "login_failed": (
        "Sai tên đăng nhập hoặc mật khẩu",
        "Wrong username or password",
        "ユーザー名またはパスワードが違います",
    ),
    "too_many_attempts": (
        "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau",
        "Too many failed logins; try again later",
        "ログインの失敗が多すぎます。しばらくしてから再試行してください",
    ),
    "not_found": ("Không tìm thấy", "Not found", "見つかりません"),
}


def problem(status: int, code: str, headers: dict[str, str] | None = None, **extra: Any) -> HTTPException:
    """An HTTP error whose detail carries a code and its text in Vietnamese, English and Japanese."""
    vi, en, ja = MESSAGES[code]
    detail = {"code": code, "msg": en, "text": {"vi": vi, "en": en, "ja": ja}, **extra}
    return HTTPException(status, detail=detail, headers=headers)


def throttle_of(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def usage_of(request: Request) -> UsageLog:
    usage: UsageLog = request.app.state.usage
    return usage


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="API or device token: `Authorization: Bearer cityops_…`",
)
session_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description=f"Web session from `POST /api/auth/login`; unsafe methods also need the `{CSRF_HEADER}` header",
)


async def authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_id: Annotated[str | None, Depends(session_scheme)],
) -> Principal | None:
    """The principal behind the request's token or session cookie; None when it carries neither (or a
    session cookie that has ended)."""
    engine = kernel_of(request).engine
    usage = usage_of(request)
    if "authorization" in request.headers:
        if bearer is None or not bearer.credentials:
            raise problem(401, "bad_authorization", {"WWW-Authenticate": "Bearer"})
        secret = bearer.credentials

        def by_token() -> Principal | None:
            with engine.connect() as conn:
                return resolve_token(conn, secret)

        principal = await anyio.to_thread.run_sync(by_token)
        if principal is None:
            raise problem(401, "invalid_token", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if principal.token_id is not None:
            usage.token_used(principal.token_id, now_ms())
        return principal
    if not session_id:
        return None
    access = settings_of(request).access
    cookie = session_id
    id_hash = digest(cookie)

    def by_session() -> Session | None:
        with engine.connect() as conn:
            return resolve_session(conn, cookie, access, usage.session_pending(id_hash))

    session = await anyio.to_thread.run_sync(by_session)
    if session is None:
        return None
    usage.session_seen(id_hash, now_ms())
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise problem(403, "csrf_failed")
    request.state.session = session
    return session.principal


async def still_signed_in(request: Request, principal: Principal) -> bool:
    """Whether the token or session a long-lived request (the live feed) started with still stands:
    not revoked, not expired, not logged out, its account not disabled."""
    if principal.anonymous:
        return True
    try:
        found = await authenticate(request, await bearer_scheme(request), await session_scheme(request))
    except HTTPException:
        return False
    return found is not None


def check(request: Request, principal: Principal | None, roles: frozenset[Role], viewer: bool) -> Principal:
    """`principal` if its role is among `roles`; the anonymous viewer where `viewer` and sign-in is not
    required; otherwise 401 (nobody) or 403 (wrong role)."""
    if principal is None:
        if viewer and not settings_of(request).auth_required:
            return ANONYMOUS_VIEWER
        raise problem(401, "not_authenticated", {"WWW-Authenticate": "Bearer"})
    if principal.role in roles:
        return principal
    if principal.role is Role.DEVICE:
        raise problem(403, "device_ingest_only")
    raise problem(403, "forbidden", role=principal.role.value, allowed=sorted(r.value for r in roles))


def require(roles: frozenset[Role], *, viewer: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting `roles` (and the anonymous viewer when `viewer`)."""

    async def dependency(
        request: Request, principal: Annotated[Principal | None, Depends(authenticate)]
    ) -> Principal:
        return check(request, principal, roles, viewer)

    return dependency


def by_method(
    read: frozenset[Role] = READERS, write: frozenset[Role] = WRITERS
) -> Callable[..., Awaitable[Principal]]:
    """For a whole router: `read` roles (and the anonymous viewer) for GET/HEAD, `write` roles otherwise."""

    async def dependency(
        request: Request, principal: Annotated[Principal | None, Depends(authenticate)]
    ) -> Principal:
        safe = request.method in SAFE_METHODS
        return check(request, principal, read if safe else write, viewer=safe)

    return dependency


Reader = Annotated[Principal, Depends(require(READERS, viewer=True))]
Writer = Annotated[Principal, Depends(require(WRITERS))]
Ingestor = Annotated[Principal, Depends(require(INGESTORS))]
Admin = Annotated[Principal, Depends(require(ADMINS))]
Person = Annotated[Principal, Depends(require(HUMAN_ROLES))]


# --- sessions --------------------------------------------------------------------------------------
def principal_to_dict(principal: Principal) -> dict[str, Any]:
    return {
        "username": principal.name,
        "role": principal.role.value,
        "anonymous": principal.anonymous,
        "scope": None
        if principal.scope is None
        else {"agency_code": principal.scope.agency_code, "areas": sorted(principal.scope.areas)},
    }


def _set_session_cookies(request: Request, response: Response, new: NewSession) -> None:
    access = settings_of(request).access
    secure = access.secure_cookies == "always" or request.url.scheme == "https"
    max_age = access.session_max_hours * 3600
    response.set_cookie(
        SESSION_COOKIE, new.session_id, max_age=max_age, httponly=True, samesite="lax", secure=secure
    )
    # Readable by the page's script, which echoes it in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, new.csrf_token, max_age=max_age, httponly=False, samesite="strict", secure=secure
    )


def _clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post(
    "/api/auth/login",
    summary="Sign in (JSON body): sets the session cookie and the CSRF cookie; 429 after too many failures",
    responses={401: {"description": "wrong username or password"}, 429: {"description": "rate limited"}},
)
async def login(request: Request, body: LoginIn) -> JSONResponse:
    engine = kernel_of(request).engine
    access = settings_of(request).access
    throttle = throttle_of(request)
    address = client_address(request)
    wait = throttle.retry_after(body.username, address)
    if wait is not None and await anyio.to_thread.run_sync(throttle.apply_unlocks, engine, body.username):
        wait = throttle.retry_after(body.username, address)
    if wait is not None:
        raise problem(429, "too_many_attempts", {"Retry-After": str(wait)}, retry_after=wait)
    replaces = request.cookies.get(SESSION_COOKIE)

    def sign_in() -> tuple[Principal, NewSession] | None:
        with engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == body.username.strip().lower())).first()
        usable = row is not None and not row.disabled
        if not verify_password(row.password_hash if row is not None and usable else None, body.password):
            return None
        assert row is not None
        with write_transaction(engine) as conn:
            if needs_rehash(row.password_hash):
                new_hash = hash_password(body.password)
                conn.execute(update(users).where(users.c.id == row.id).values(password_hash=new_hash))
            new = create_session(conn, row.id, access, address, replaces=replaces)
            audit.record(
                conn, row.username, "session.login", f"user:{row.username}", None, {"address": address}
            )
            return principal_of_user(conn, row), new

    signed_in = await anyio.to_thread.run_sync(sign_in)
    if signed_in is None:
        throttle.failed(body.username, address)
        log.warning("failed login for %r from %s", body.username[:64], address)
        raise problem(401, "login_failed")
    throttle.succeeded(body.username, address)
    principal, new = signed_in
    response = JSONResponse({"user": principal_to_dict(principal), "csrf_token": new.csrf_token})
    _set_session_cookies(request, response, new)
    return response


@router.post("/api/auth/logout", status_code=204, summary="Sign out: ends the session, clears the cookies")
async def logout(request: Request, principal: Annotated[Principal | None, Depends(authenticate)]) -> Response:
    engine = kernel_of(request).engine
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and principal is not None and getattr(request.state, "session", None) is not None:
        name = principal.name

        def sign_out() -> None:
            with write_transaction(engine) as conn:
                if end_session(conn, cookie):
                    audit.record(conn, name, "session.logout", f"user:{name}")

        await anyio.to_thread.run_sync(sign_out)
    response = Response(status_code=204)
    _clear_session_cookies(response)
    return response


@router.get("/api/auth/me", summary="Who the request acts as (and the session's CSRF token)")
async def me(request: Request, principal: Reader) -> dict[str, Any]:
    session: Session | None = getattr(request.state, "session", None)
    return {
        **principal_to_dict(principal),
        "via": "session" if session else ("anonymous" if principal.anonymous else "token"),
        "csrf_token": session.csrf_token if session else None,
        "session_expires_ms": session.expires_ms if session else None,
    }


class PasswordChangeIn(BaseModel):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post(
    "/api/auth/password",
    summary="Change one's own password: every session of the account ends; a web caller gets a new one",
)
async def change_password(request: Request, principal: Person, body: PasswordChangeIn) -> JSONResponse:
    engine = kernel_of(request).engine
    access = settings_of(request).access
    throttle = throttle_of(request)
    address = client_address(request)
    wait = throttle.retry_after(principal.name, address)
    if wait is not None:
        raise problem(429, "too_many_attempts", {"Retry-After": str(wait)}, retry_after=wait)
    via_session = getattr(request.state, "session", None) is not None

    def change() -> tuple[bool, NewSession | None]:
        """(whether the current password was right, the new session for a web caller)."""
        with engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == principal.user_id)).one()
        if not verify_password(row.password_hash, body.current_password):
            return False, None
        with write_transaction(engine) as conn:
            set_password(conn, row.username, body.new_password, principal.actor, access.min_password_length)
            return True, create_session(conn, row.id, access, address) if via_session else None

    try:
        right, new = await anyio.to_thread.run_sync(change)
    except AccessError as exc:
        field = {"loc": ["body", "new_password"], "field": "new_password", "msg": exc.message}
        raise HTTPException(422, detail=[field]) from None
    if not right:
        throttle.failed(principal.name, address)
        raise problem(401, "login_failed")
    response = JSONResponse({"changed": True, "csrf_token": new.csrf_token if new else None})
    if new is not None:
        _set_session_cookies(request, response, new)
    return response
