"""The captive portal's sign-in: a one-time code sent to a phone, or a voucher.

A phone number (Vietnamese, `0…` or `+84…`) gets a 6-digit code valid 5 minutes, at most 3 codes per
number per 15 minutes and 5 tries per code. The right code creates a short-lived RADIUS user of kind
`phone` with a random name and password (valid 24 hours, the tenant's first plan): the page hands them to
the access point's login page, which asks FreeRADIUS as for any user. The number itself is never stored:
only its keyed hash, in the code's row and the user's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cityops.wifi.errors import WifiError, not_found
from cityops.wifi.privacy import PersonalData
from cityops.wifi.schema import one_time_codes, plans, radius_users, tenants
from cityops.wifi.sms import SmsFailed, SmsSender
from cityops.wifi.vouchers import CODE_ALPHABET

PHONE = re.compile(r"^(?:\+84|84|0)([35789][0-9]{8})$")
CODE_TTL_MS = 5 * 60_000
CODES_PER_WINDOW = 3
WINDOW_MS = 15 * 60_000
MAX_ATTEMPTS = 5
SESSION_HOURS = 24
MESSAGE = "Mã đăng nhập wifi / Wifi sign-in code: {code}"


def normalise_phone(value: str) -> str:
    match = PHONE.match(re.sub(r"[\s.-]", "", value))
    if match is None:
        raise WifiError(422, "phone", "must be a Vietnamese mobile number such as 0912 345 678")
    return "+84" + match[1]


def portal_tenant(conn: Connection, slug: str) -> Any:
    row = conn.execute(select(tenants).where(tenants.c.slug == slug)).first()
    if row is None:
        raise not_found("tenant")
    return row


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def send_code(
    conn: Connection, slug: str, phone: str, personal: PersonalData, sender: SmsSender, now_ms: int
) -> None:
    tenant = portal_tenant(conn, slug)
    number = normalise_phone(phone)
    key = personal.phone(number, hashed=True)
    recent = conn.execute(
        select(func.count()).where(
            one_time_codes.c.phone == key, one_time_codes.c.created_ms > now_ms - WINDOW_MS
        )
    ).scalar_one()
    if recent >= CODES_PER_WINDOW:
        raise WifiError(429, "phone", f"at most {CODES_PER_WINDOW} codes per number in 15 minutes")
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    try:
        sender.send(conn, tenant.id, number, key, MESSAGE.format(code=code), now_ms)
    except SmsFailed as exc:
        raise WifiError(502, "phone", str(exc)) from None
    conn.execute(
        insert(one_time_codes).values(
            tenant_id=tenant.id,
            phone=key,
            code_hash=_digest(salt, code),
            salt=salt,
            created_ms=now_ms,
            expires_ms=now_ms + CODE_TTL_MS,
            attempts=0,
        )
    )


def verify_code(
    conn: Connection, slug: str, phone: str, code: str, personal: PersonalData, now_ms: int
) -> dict[str, str]:
    tenant = portal_tenant(conn, slug)
    key = personal.phone(normalise_phone(phone), hashed=True)
    row = conn.execute(
        select(one_time_codes)
        .where(
            one_time_codes.c.phone == key,
            one_time_codes.c.tenant_id == tenant.id,
            one_time_codes.c.used_ms.is_(None),
        )
        .order_by(one_time_codes.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.expires_ms <= now_ms or row.attempts >= MAX_ATTEMPTS:
        raise WifiError(422, "code", "no valid code for this number: ask for a new one")
    if not hmac.compare_digest(row.code_hash, _digest(row.salt, code.strip())):
        conn.execute(
            update(one_time_codes).where(one_time_codes.c.id == row.id).values(attempts=row.attempts + 1)
        )
        raise WifiError(422, "code", "wrong code")
    conn.execute(update(one_time_codes).where(one_time_codes.c.id == row.id).values(used_ms=now_ms))
    plan = conn.execute(
        select(plans.c.id).where(plans.c.tenant_id == tenant.id).order_by(plans.c.id).limit(1)
    ).scalar()
    if plan is None:
        raise WifiError(409, "tenant", "the network has no plan yet")
    username = "p-" + secrets.token_hex(6)
    password = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    conn.execute(
        insert(radius_users).values(
            tenant_id=tenant.id,
            username=username,
            kind="phone",
            password=password,
            phone=key,
            plan_id=plan,
            valid_until_ms=now_ms + SESSION_HOURS * 3_600_000,
            disabled=False,
            created_ms=now_ms,
            created_by="portal",
        )
    )
    return {"username": username, "password": password}


def check_voucher(conn: Connection, slug: str, code: str, now_ms: int) -> dict[str, str]:
    tenant = portal_tenant(conn, slug)
    code = code.strip().upper()
    row = conn.execute(
        select(radius_users).where(
            radius_users.c.username == code,
            radius_users.c.tenant_id == tenant.id,
            radius_users.c.kind == "voucher",
        )
    ).first()
    if row is None or row.disabled:
        raise WifiError(422, "voucher", "unknown voucher")
    if row.valid_until_ms is not None and row.valid_until_ms <= now_ms:
        raise WifiError(422, "voucher", "this voucher has expired")
    return {"username": code, "password": code}
