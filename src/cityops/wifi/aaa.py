"""Authorize, authenticate and post-auth: cityops's answers to FreeRADIUS's rest module.

authorize  finds the user within the NAS's tenant, checks a PAP password (User-Password, which
           FreeRADIUS decrypted) and that the user may connect now (enabled, not expired, today's quota
           left, a free device slot); returns the plan's reply attributes with `control:Auth-Type :=
           Accept` for PAP, or for CHAP the code itself (`control:Cleartext-Password`) for FreeRADIUS's
           chap module to check the answer against: the authenticate step of openwisp-radius's design.
post-auth  records the outcome (never the password) and a voucher's first use.

A reject carries a `Reply-Message` (Vietnamese / English) and a reason code the captive portal shows.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, insert, select, update

from cityops.core.access.accounts import verify_password
from cityops.wifi.attributes import RadiusRequest, reply
from cityops.wifi.plans import Limits, day_start_ms, reply_attributes
from cityops.wifi.schema import nas_clients, plans, radius_users, sessions, sign_ins

Reason = Literal["unknown_nas", "unknown_user", "wrong_password", "disabled", "expired", "quota", "devices"]
MESSAGES: dict[str, str] = {
    "unknown_nas": "Điểm truy cập chưa được đăng ký / Unknown access point",
    "unknown_user": "Sai tên đăng nhập hoặc mật khẩu / Wrong username or password",
    "wrong_password": "Sai tên đăng nhập hoặc mật khẩu / Wrong username or password",
    "disabled": "Tài khoản đã bị khóa / Account disabled",
    "expired": "Mã truy cập đã hết hạn / Voucher expired",
    "quota": "Đã dùng hết dung lượng hôm nay / Today's data quota is used up",
    "devices": "Đã đạt số thiết bị tối đa / Too many devices connected",
}


@dataclass(frozen=True)
class Decision:
    accepted: bool
    attributes: dict[str, Any]
    reason: Reason | None = None


def reject(reason: Reason) -> Decision:
    return Decision(False, reply({"Reply-Message": MESSAGES[reason]}), reason)


def find_nas(conn: Connection, name: str | None) -> Row[Any] | None:
    if not name:
        return None
    return conn.execute(select(nas_clients).where(nas_clients.c.name == name)).first()


def find_user(conn: Connection, tenant_id: int, username: str) -> Row[Any] | None:
    query = select(radius_users).where(
        radius_users.c.username == username, radius_users.c.tenant_id == tenant_id
    )
    return conn.execute(query).first()


def used_today(conn: Connection, user_id: int, now_ms: int) -> int:
    query = select(func.coalesce(func.sum(sessions.c.input_bytes + sessions.c.output_bytes), 0)).where(
        sessions.c.user_id == user_id, sessions.c.started_ms >= day_start_ms(now_ms)
    )
    return int(conn.execute(query).scalar_one())


def open_sessions(conn: Connection, user_id: int) -> int:
    query = select(func.count()).where(sessions.c.user_id == user_id, sessions.c.stopped_ms.is_(None))
    return int(conn.execute(query).scalar_one())


def password_matches(user: Row[Any], given: str) -> bool:
    """Vouchers and phone codes are compared in constant time, accounts' passwords by argon2."""
    if user.password is not None:
        return hmac.compare_digest(user.password.encode(), given.encode())
    return verify_password(user.password_hash, given)


def authorize(
    conn: Connection, nas_name: str | None, request: RadiusRequest, now_ms: int, interim_seconds: int
) -> Decision:
    nas = find_nas(conn, nas_name)
    if nas is None:
        return reject("unknown_nas")
    user = find_user(conn, nas.tenant_id, request.text("User-Name", 64))
    pap_password = request.get("User-Password")
    if user is None:
        if pap_password is not None:
            verify_password(None, pap_password)  # as slow as a wrong password: usernames stay unknown
        return reject("unknown_user")
    if pap_password is not None and not password_matches(user, pap_password):
        return reject("wrong_password")
    if request.get("CHAP-Password") is not None and user.password is None:
        return reject("wrong_password")  # an account's password is kept only as a hash: PAP only
    if pap_password is None and request.get("CHAP-Password") is None:
        return reject("wrong_password")
    if user.disabled:
        return reject("disabled")
    if user.valid_until_ms is not None and user.valid_until_ms <= now_ms:
        return reject("expired")
    plan = conn.execute(select(plans).where(plans.c.id == user.plan_id)).one()
    limits = Limits(
        plan.session_seconds, plan.daily_quota_bytes, plan.down_kbps, plan.up_kbps, plan.max_devices
    )
    used = used_today(conn, user.id, now_ms)
    if limits.daily_quota_bytes is not None and used >= limits.daily_quota_bytes:
        return reject("quota")
    if limits.max_devices is not None and open_sessions(conn, user.id) >= limits.max_devices:
        return reject("devices")
    seconds_left = None if user.valid_until_ms is None else (user.valid_until_ms - now_ms) // 1000
    attributes = reply(reply_attributes(limits, used, seconds_left, interim_seconds))
    if pap_password is not None:
        attributes.update(reply({"Auth-Type": "Accept"}, "control"))
    else:  # CHAP: FreeRADIUS's chap module checks the answer against the code
        attributes.update(reply({"Cleartext-Password": user.password}, "control"))
    return Decision(True, attributes)


def post_auth(
    conn: Connection, nas_name: str | None, request: RadiusRequest, accepted: bool, now_ms: int
) -> None:
    nas = find_nas(conn, nas_name)
    username = (request.get("User-Name") or "")[:64]
    user = None if nas is None else find_user(conn, nas.tenant_id, username)
    reason = None
    if not accepted:
        reason = (request.get("Module-Failure-Message") or "rejected")[:32]
    conn.execute(
        insert(sign_ins).values(
            ts_ms=now_ms,
            tenant_id=None if nas is None else nas.tenant_id,
            nas_id=None if nas is None else nas.id,
            username=username,
            accepted=accepted,
            reason=reason,
        )
    )
    if accepted and user is not None and user.first_used_ms is None:
        conn.execute(update(radius_users).where(radius_users.c.id == user.id).values(first_used_ms=now_ms))
