"""RADIUS accounting (RFC 2866, RFC 2869) into `wifi_sessions`.

    Start             opens the session (a retransmitted Start finds it and changes nothing)
    Interim-Update    updates its counters; opens it if the Start was lost; never reopens a closed one
    Stop              closes it with its final counters (a Stop without a Start records a closed session)
    Accounting-On/Off the NAS rebooted or stops: every session still open on it is closed

Counters are the NAS's running totals (octets plus Gigawords, the 32-bit counter's wraps), so a session
keeps the largest total it was told: a retransmitted or reordered packet can never count twice, nor make
a total go back. Sessions whose interim updates stop for twice their interval are closed by
`close_stale` (terminate cause `Stale-Session`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Row, insert, select, update

from cityops.wifi.attributes import RadiusRequest, RequestError
from cityops.wifi.privacy import PersonalData, normalise_mac
from cityops.wifi.schema import access_points, nas_clients, radius_users, sessions, tenants

StatusType = Literal["Start", "Stop", "Interim-Update", "Accounting-On", "Accounting-Off"]
STATUS_TYPES: dict[str, StatusType] = {
    "Start": "Start",
    "1": "Start",
    "Stop": "Stop",
    "2": "Stop",
    "Interim-Update": "Interim-Update",
    "Alive": "Interim-Update",
    "3": "Interim-Update",
    "Accounting-On": "Accounting-On",
    "7": "Accounting-On",
    "Accounting-Off": "Accounting-Off",
    "8": "Accounting-Off",
}
Outcome = Literal["opened", "updated", "closed", "duplicate", "ignored", "nas_closed"]


@dataclass(frozen=True)
class Packet:
    status: StatusType
    session_id: str
    username: str
    calling_station: str | None
    called_station: str | None
    session_seconds: int
    input_bytes: int
    output_bytes: int
    terminate_cause: str | None
    delay_seconds: int
    interim_seconds: int | None

    @classmethod
    def parse(cls, request: RadiusRequest) -> Packet:
        raw_status = request.text("Acct-Status-Type", 32)
        status = STATUS_TYPES.get(raw_status)
        if status is None:
            raise RequestError(
                "Acct-Status-Type",
                f"{raw_status[:32]!r} is not handled; known: {sorted(set(STATUS_TYPES.values()))}",
            )
        on_off = status in ("Accounting-On", "Accounting-Off")
        interim = request.get("Acct-Interim-Interval")
        return cls(
            status=status,
            session_id="" if on_off else request.text("Acct-Session-Id", 64),
            username=(request.get("User-Name") or "")[:64],
            calling_station=request.get("Calling-Station-Id"),
            called_station=request.get("Called-Station-Id"),
            session_seconds=request.integer("Acct-Session-Time"),
            input_bytes=request.octets("Input"),
            output_bytes=request.octets("Output"),
            terminate_cause=(request.get("Acct-Terminate-Cause") or None),
            delay_seconds=request.integer("Acct-Delay-Time"),
            interim_seconds=None if interim is None else request.integer("Acct-Interim-Interval"),
        )


@dataclass(frozen=True)
class Nas:
    id: int
    tenant_id: int
    hash_personal_data: bool


def nas_of(conn: Connection, name: str | None) -> Nas | None:
    if not name:
        return None
    query = (
        select(nas_clients.c.id, nas_clients.c.tenant_id, tenants.c.hash_personal_data)
        .join(tenants, tenants.c.id == nas_clients.c.tenant_id)
        .where(nas_clients.c.name == name)
    )
    row = conn.execute(query).first()
    return None if row is None else Nas(row.id, row.tenant_id, bool(row.hash_personal_data))


def access_point_of(conn: Connection, nas: Nas, called_station: str | None) -> str | None:
    """The access point a session is on: Called-Station-Id's MAC (`AA-BB-..:SSID`), else the NAS's own."""
    if called_station:
        mac = normalise_mac(called_station.split(":")[0] if "-" in called_station else called_station[:17])
        if mac is not None:
            row = conn.execute(
                select(access_points.c.id).where(
                    access_points.c.mac == mac, access_points.c.tenant_id == nas.tenant_id
                )
            ).first()
            if row is not None:
                return str(row.id)
    row = conn.execute(select(access_points.c.id).where(access_points.c.nas_id == nas.id)).first()
    return None if row is None else str(row.id)


def record(
    conn: Connection, nas: Nas, packet: Packet, now_ms: int, default_interim: int, personal: PersonalData
) -> Outcome:
    if packet.status in ("Accounting-On", "Accounting-Off"):
        cause = "NAS-Reboot" if packet.status == "Accounting-On" else "NAS-Request"
        close_open(conn, sessions.c.nas_id == nas.id, cause)
        return "nas_closed"
    sent_ms = now_ms - packet.delay_seconds * 1000
    existing = conn.execute(
        select(sessions).where(sessions.c.nas_id == nas.id, sessions.c.acct_session_id == packet.session_id)
    ).first()
    access_point = access_point_of(conn, nas, packet.called_station)
    if access_point is not None:
        conn.execute(
            update(access_points).where(access_points.c.id == access_point).values(last_accounting_ms=now_ms)
        )
    if existing is None:
        return _insert(conn, nas, packet, sent_ms, default_interim, personal, access_point)
    if existing.stopped_ms is not None:
        return "duplicate" if packet.status == "Stop" else "ignored"
    if packet.status == "Start":
        return "duplicate"
    return _update(conn, existing, packet, sent_ms)


def _insert(
    conn: Connection,
    nas: Nas,
    packet: Packet,
    sent_ms: int,
    default_interim: int,
    personal: PersonalData,
    access_point: str | None,
) -> Outcome:
    user = conn.execute(
        select(radius_users.c.id).where(
            radius_users.c.username == packet.username, radius_users.c.tenant_id == nas.tenant_id
        )
    ).first()
    closed = packet.status == "Stop"
    conn.execute(
        insert(sessions).values(
            tenant_id=nas.tenant_id,
            nas_id=nas.id,
            acct_session_id=packet.session_id,
            access_point_id=access_point,
            user_id=None if user is None else user.id,
            username=packet.username,
            client_mac=personal.mac(packet.calling_station, nas.hash_personal_data),
            started_ms=sent_ms - packet.session_seconds * 1000,
            updated_ms=sent_ms,
            stopped_ms=sent_ms if closed else None,
            session_seconds=packet.session_seconds,
            input_bytes=packet.input_bytes,
            output_bytes=packet.output_bytes,
            interim_seconds=packet.interim_seconds or default_interim,
            terminate_cause=(packet.terminate_cause or "")[:32] or None if closed else None,
        )
    )
    return "closed" if closed else "opened"


def _update(conn: Connection, existing: Row[Any], packet: Packet, sent_ms: int) -> Outcome:
    closed = packet.status == "Stop"
    values: dict[str, Any] = {
        "updated_ms": max(existing.updated_ms, sent_ms),
        "session_seconds": max(existing.session_seconds, packet.session_seconds),
        "input_bytes": max(existing.input_bytes, packet.input_bytes),
        "output_bytes": max(existing.output_bytes, packet.output_bytes),
    }
    if closed:
        values["stopped_ms"] = sent_ms
        values["terminate_cause"] = (packet.terminate_cause or "")[:32] or None
    conn.execute(update(sessions).where(sessions.c.id == existing.id).values(**values))
    return "closed" if closed else "updated"


def close_open(conn: Connection, where: ColumnElement[bool], cause: str) -> int:
    result = conn.execute(
        update(sessions)
        .where(where, sessions.c.stopped_ms.is_(None))
        .values(stopped_ms=sessions.c.updated_ms, terminate_cause=cause)
    )
    return int(result.rowcount)


def close_stale(conn: Connection, now_ms: int) -> int:
    """Close sessions not heard of for twice their interim interval; they end when last heard of."""
    return close_open(
        conn, sessions.c.updated_ms + sessions.c.interim_seconds * 2000 < now_ms, "Stale-Session"
    )
