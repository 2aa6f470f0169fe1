"""Users and roles: who may do what, password hashing (argon2id), and the principal a request acts as.

Roles (see docs/access.md):
- admin — everything, including accounts, tokens and the audit log;
- operator — reads everything, changes entities, rules and incidents, sends data;
- leader — reads dashboards, changes nothing;
- agency_officer — reads dashboards; sees and acts only on the incidents and reports of its agency and
  areas (`Principal.scope`);
- device — a token, not a person: may only send data points (`POST /api/ingest`) and what a domain grants
  it (`device_paths`); never create, rename or re-attribute entities.

Every change here takes the connection of its transaction and appends to the audit log in it.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import limits
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from cityops.core import audit
from cityops.core.access.schema import sessions, users
from cityops.core.access.scope import Scope
from cityops.core.rules.scope import AreaTree
from cityops.core.schema import areas


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    LEADER = "leader"
    AGENCY_OFFICER = "agency_officer"
    DEVICE = "device"


HUMAN_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.LEADER, Role.AGENCY_OFFICER})
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
AGENCY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; this only bounds the work one request causes

# RFC 9106's second recommendation (64 MiB, 3 passes, 4 lanes): ~0.1 s per hash on one core.
PASSWORDS = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


class AccessSettings(BaseModel):
    """`[access]` in cityops.toml."""

    model_config = ConfigDict(extra="forbid")

    session_idle_minutes: int = Field(
        default=480, ge=5, le=7 * 24 * 60, description="A web session unused this long ends (one shift)."
    )
    session_max_hours: int = Field(default=12, ge=1, le=30 * 24, description="A web session ends this late.")
    login_limit_per_account: str = Field(
        default="5/15 minutes",
        description="Failed logins allowed per account from one client address (then HTTP 429).",
    )
    login_limit_per_address: str = Field(
        default="20/15 minutes", description="Failed logins allowed per client address (then HTTP 429)."
    )
    rate_limit_storage: str = Field(
        default="store",
        description="'store': counts in the store, shared by every server; or a `limits` storage URI "
        "(memory:// counts in this process alone).",
    )
    min_password_length: int = Field(default=12, ge=8, le=128)
    secure_cookies: Literal["auto", "always"] = Field(
        default="auto", description="'auto': cookies are Secure when the request came over https."
    )

    @field_validator("login_limit_per_account", "login_limit_per_address")
    @classmethod
    def _limit(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as '5/15 minutes'") from None
        return value


class AccessError(ValueError):
    """Bad input to an account operation; names the field (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class AccessNotFound(LookupError):
    pass


class AccessConflict(RuntimeError):
    """The change would break an invariant (a taken username, no admin left): HTTP 409."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as."""

    name: str  # username, or the device token's name
    role: Role
    user_id: int | None = None
    token_id: int | None = None
    scope: Scope | None = None  # None: unrestricted
    anonymous: bool = False  # the read-only viewer of `auth_required = false`

    @property
    def actor(self) -> str:
        """The name the audit log records."""
        return f"device:{self.name}" if self.role is Role.DEVICE else self.name

    @property
    def is_human(self) -> bool:
        return self.role in HUMAN_ROLES


ANONYMOUS_VIEWER = Principal(name="anonymous", role=Role.LEADER, anonymous=True)


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    role: Role | str
    display_name: str = ""
    agency_code: str | None = None
    area_codes: tuple[str, ...] = ()
    password: str | None = None  # None: the account signs in with API tokens only


def now_ms() -> int:
    return int(time.time() * 1000)


# --- passwords -------------------------------------------------------------------------------------
def check_password_rules(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise AccessError("password", f"must have at least {min_length} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccessError("password", f"must have at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return PASSWORDS.hash("cityops: no such account")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches. Without a hash (no such account) a dummy hash is verified, so a wrong
    username costs as much time as a wrong password and does not reveal which accounts exist."""
    try:
        return PASSWORDS.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return PASSWORDS.check_needs_rehash(stored_hash)


# --- users -----------------------------------------------------------------------------------------
def user_to_dict(row: Row[Any]) -> dict[str, Any]:
    """The account as the API and the audit log show it: never the password hash."""
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "agency_code": row.agency_code,
        "area_codes": list(row.area_codes or []),
        "disabled": bool(row.disabled),
        "has_password": row.password_hash is not None,
        "created_ms": row.created_ms,
        "updated_ms": row.updated_ms,
        "created_by": row.created_by,
        "password_changed_ms": row.password_changed_ms,
    }


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise AccessError("username", "must be 2–64 characters: letters a–z, digits, '.', '_' or '-'")
    return name


def _check_profile(conn: Connection, role: str, agency_code: str | None, area_codes: list[str]) -> None:
    try:
        parsed = Role(role)
    except ValueError:
        raise AccessError("role", f"unknown role {role!r}; roles: {sorted(HUMAN_ROLES)}") from None
    if parsed not in HUMAN_ROLES:
        raise AccessError("role", "devices are not accounts: issue a device token instead")
    if parsed is not Role.AGENCY_OFFICER:
        if agency_code is not None or area_codes:
            field = "agency_code" if agency_code is not None else "area_codes"
            raise AccessError(field, "only agency officers are limited to an agency and areas")
        return
    if agency_code is None and not area_codes:
        raise AccessError("agency_code", "an agency officer needs an agency code, areas, or both")
    if agency_code is not None and not AGENCY_PATTERN.match(agency_code):
        raise AccessError("agency_code", "must be 1–64 characters: letters, digits, '.', '_', ':' or '-'")
    if area_codes:
        known = set(conn.execute(select(areas.c.code).where(areas.c.code.in_(area_codes))).scalars())
        unknown = [code for code in area_codes if code not in known]
        if unknown:
            raise AccessError("area_codes", f"unknown area codes {unknown} (use codes such as 'legacy:718')")


def fetch_user(conn: Connection, username: str) -> Row[Any]:
    row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    if row is None:
        raise AccessNotFound(f"user {username}")
    return row


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [user_to_dict(row) for row in conn.execute(select(users).order_by(users.c.username))]


def create_user(conn: Connection, new: NewUser, actor: str, min_password_length: int = 12) -> dict[str, Any]:
    username = normalise_username(new.username)
    area_codes = list(dict.fromkeys(new.area_codes))
    _check_profile(conn, str(new.role), new.agency_code, area_codes)
    if len(new.display_name) > 200:
        raise AccessError("display_name", "must have at most 200 characters")
    password_hash = None
    if new.password is not None:
        check_password_rules(new.password, min_password_length)
        password_hash = hash_password(new.password)
    if conn.execute(select(users.c.id).where(users.c.username == username)).first() is not None:
        raise AccessConflict(f"username {username!r} is taken")
    now = now_ms()
    user_id = conn.execute(
        insert(users).values(
            username=username,
            display_name=new.display_name,
            role=str(new.role),
            agency_code=new.agency_code,
            area_codes=area_codes,
            password_hash=password_hash,
            disabled=False,
            created_ms=now,
            updated_ms=now,
            created_by=actor[: audit.ACTOR_MAX],
            password_changed_ms=now if password_hash else None,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    created = user_to_dict(conn.execute(select(users).where(users.c.id == user_id)).one())
    audit.record(conn, actor, "user.create", f"user:{username}", None, created, ts_ms=now)
    return created


def _active_admins(conn: Connection) -> int:
    query = select(func.count()).where(users.c.role == Role.ADMIN.value, users.c.disabled.is_(False))
    return int(conn.execute(query).scalar_one())


def update_user(conn: Connection, username: str, changes: dict[str, Any], actor: str) -> dict[str, Any]:
    """Change display_name, role, agency_code, area_codes or disabled; a disabled account's sessions end."""
    allowed = {"display_name", "role", "agency_code", "area_codes", "disabled"}
    unknown = set(changes) - allowed
    if unknown:
        raise AccessError(sorted(unknown)[0], f"cannot be changed here; changeable: {sorted(allowed)}")
    row = fetch_user(conn, username)
    before = user_to_dict(row)
    merged = {**before, **changes}
    merged["area_codes"] = list(dict.fromkeys(merged["area_codes"] or []))
    _check_profile(conn, merged["role"], merged["agency_code"], merged["area_codes"])
    was_admin = row.role == Role.ADMIN.value and not row.disabled
    stays_admin = merged["role"] == Role.ADMIN.value and not merged["disabled"]
    if was_admin and not stays_admin and _active_admins(conn) <= 1:
        raise AccessConflict("this is the last active admin: create or enable another admin first")
    values = {key: merged[key] for key in changes}
    values["updated_ms"] = now_ms()
    conn.execute(update(users).where(users.c.id == row.id).values(**values))
    if merged["disabled"]:
        conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
    after = user_to_dict(conn.execute(select(users).where(users.c.id == row.id)).one())
    audit.record(conn, actor, "user.update", f"user:{row.username}", before, after)
    return after


def set_password(
    conn: Connection, username: str, password: str, actor: str, min_password_length: int = 12
) -> None:
    """Set a new password (hashed); every session of the account ends."""
    check_password_rules(password, min_password_length)
    row = fetch_user(conn, username)
    now = now_ms()
    conn.execute(
        update(users)
        .where(users.c.id == row.id)
        .values(password_hash=hash_password(password), password_changed_ms=now, updated_ms=now)
    )
    conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
    audit.record(conn, actor, "user.password", f"user:{row.username}", None, None, ts_ms=now)


def principal_of_user(conn: Connection, row: Row[Any], token_id: int | None = None) -> Principal:
    role = Role(row.role)
    scope = None
    if role is Role.AGENCY_OFFICER:
        scope = Scope.of(row.agency_code, row.area_codes or [], AreaTree.load(conn))
    return Principal(name=row.username, role=role, user_id=row.id, token_id=token_id, scope=scope)
