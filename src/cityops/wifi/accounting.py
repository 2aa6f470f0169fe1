"""RADIUS accounting (RFC 2866, RFC 2869) into `wifi_sessions`.

    Start             opens the session (a retransmitted Start finds it and changes nothing)
    Interim-Update    updates its counters; opens it if the Start was lost; never reopens a closed one
    Stop              closes it with its final counters (a Stop without a Start records a closed session)
    Accounting-On/Off the NAS rebooted or stops: every session still open on it is closed

Packets are stored in batches (`Batch`, one transaction each, see detail_reader.py). Counters are the
NAS's running totals (octets plus Gigawords, the 32-bit counter's wraps), so a session
keeps the largest total it was told: a retransmitted or reordered packet can never count twice, nor make
a total go back. Sessions whose interim updates stop for twice their interval are closed by
`close_stale` (terminate cause `Stale-Session`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, update

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


@dataclass(frozen=True)
class Accounted:
    """A packet to store: which NAS sent it (FreeRADIUS's client shortname) and when it arrived."""

    nas_name: str | None
    packet: Packet
    received_ms: int


class Batch:
    """Packets stored together in one transaction: the sessions they touch are read at once, each packet
    applied in order to its session in memory, and every changed session written once."""

    def __init__(self, conn: Connection, default_interim: int, personal: PersonalData) -> None:
        self.conn = conn
        self.default_interim = default_interim
        self.personal = personal
        self._nas: dict[str | None, Nas | None] = {}
        self._access_points: dict[tuple[int, str | None], str | None] = {}
        self._users: dict[tuple[int, str], int | None] = {}
        self._heard: dict[str, int] = {}  # access point -> when accounting last came through it
        self._sessions: dict[tuple[int, str], dict[str, Any]] = {}
        self._changed: set[tuple[int, str]] = set()

    def record(self, items: list[Accounted]) -> list[Outcome | None]:
        """Each packet's outcome, in order (None: the NAS is unknown, nothing stored)."""
        outcomes: list[Outcome | None] = []
        pending: list[tuple[int, Nas, Accounted]] = []
        for item in items:
            nas = self.nas(item.nas_name)
            outcomes.append(None)
            if nas is None:
                continue
            if item.packet.status in ("Accounting-On", "Accounting-Off"):
                self._apply(pending, outcomes)
                pending = []
                self.flush()
                outcomes[-1] = self._nas_restarted(nas, item)
            else:
                pending.append((len(outcomes) - 1, nas, item))
        self._apply(pending, outcomes)
        self.flush()
        return outcomes

    def nas(self, name: str | None) -> Nas | None:
        if name not in self._nas:
            self._nas[name] = nas_of(self.conn, name)
        return self._nas[name]

    def _nas_restarted(self, nas: Nas, item: Accounted) -> Outcome:
        """The NAS rebooted (On) or stops (Off): its sessions last heard of before then are over. A late
        retransmission of the same On/Off therefore never closes a session opened after it."""
        cause = "NAS-Reboot" if item.packet.status == "Accounting-On" else "NAS-Request"
        sent_ms = item.received_ms - item.packet.delay_seconds * 1000
        close_open(self.conn, (sessions.c.nas_id == nas.id) & (sessions.c.updated_ms <= sent_ms), cause)
        return "nas_closed"

    def _apply(self, pending: list[tuple[int, Nas, Accounted]], outcomes: list[Outcome | None]) -> None:
        self._load({(nas.id, item.packet.session_id) for _, nas, item in pending})
        for index, nas, item in pending:
            outcomes[index] = self._apply_one(nas, item)

    def _load(self, keys: set[tuple[int, str]]) -> None:
        wanted: dict[int, list[str]] = {}
        for nas_id, session_id in keys - self._sessions.keys():
            wanted.setdefault(nas_id, []).append(session_id)
        for nas_id, session_ids in wanted.items():
            for start in range(0, len(session_ids), 500):
                rows = self.conn.execute(
                    select(sessions).where(
                        sessions.c.nas_id == nas_id,
                        sessions.c.acct_session_id.in_(session_ids[start : start + 500]),
                    )
                )
                for row in rows:
                    self._sessions[(nas_id, row.acct_session_id)] = dict(row._mapping)

    def _apply_one(self, nas: Nas, item: Accounted) -> Outcome:
        packet = item.packet
        sent_ms = item.received_ms - packet.delay_seconds * 1000
        access_point = self._access_point(nas, packet.called_station)
        if access_point is not None:
            self._heard[access_point] = max(self._heard.get(access_point, 0), item.received_ms)
        key = (nas.id, packet.session_id)
        existing = self._sessions.get(key)
        if existing is None:
            self._sessions[key] = self._new(nas, packet, sent_ms, access_point)
            self._changed.add(key)
            return "closed" if packet.status == "Stop" else "opened"
        if existing["stopped_ms"] is not None:
            return "duplicate" if packet.status == "Stop" else "ignored"
        if packet.status == "Start":
            return "duplicate"
        existing["updated_ms"] = max(existing["updated_ms"], sent_ms)
        existing["session_seconds"] = max(existing["session_seconds"], packet.session_seconds)
        existing["input_bytes"] = max(existing["input_bytes"], packet.input_bytes)
        existing["output_bytes"] = max(existing["output_bytes"], packet.output_bytes)
        self._changed.add(key)
        if packet.status != "Stop":
            return "updated"
        existing["stopped_ms"] = sent_ms
        existing["terminate_cause"] = (packet.terminate_cause or "")[:32] or None
        return "closed"

    def _new(self, nas: Nas, packet: Packet, sent_ms: int, access_point: str | None) -> dict[str, Any]:
        closed = packet.status == "Stop"
        return {
            "id": None,
            "tenant_id": nas.tenant_id,
            "nas_id": nas.id,
            "acct_session_id": packet.session_id,
            "access_point_id": access_point,
            "user_id": self._user(nas, packet.username),
            "username": packet.username,
            "client_mac": self.personal.mac(packet.calling_station, nas.hash_personal_data),
            "started_ms": sent_ms - packet.session_seconds * 1000,
            "updated_ms": sent_ms,
            "stopped_ms": sent_ms if closed else None,
            "session_seconds": packet.session_seconds,
            "input_bytes": packet.input_bytes,
            "output_bytes": packet.output_bytes,
            "interim_seconds": packet.interim_seconds or self.default_interim,
            "terminate_cause": (packet.terminate_cause or "")[:32] or None if closed else None,
        }

    def _user(self, nas: Nas, username: str) -> int | None:
        key = (nas.tenant_id, username)
        if key not in self._users:
            self._users[key] = self.conn.execute(
                select(radius_users.c.id).where(
                    radius_users.c.username == username, radius_users.c.tenant_id == nas.tenant_id
                )
            ).scalar()
        return self._users[key]

    def _access_point(self, nas: Nas, called_station: str | None) -> str | None:
        key = (nas.id, called_station)
        if key not in self._access_points:
            self._access_points[key] = access_point_of(self.conn, nas, called_station)
        return self._access_points[key]

    def flush(self) -> None:
        """Write every session changed since the last flush, and when each access point was last heard."""
        changed = [self._sessions[key] for key in self._changed]
        inserts = [{k: v for k, v in row.items() if k != "id"} for row in changed if row["id"] is None]
        updates = [
            {**{f"new_{k}": row[k] for k in UPDATED}, "row_id": row["id"]} for row in changed if row["id"]
        ]
        if inserts:
            self.conn.execute(insert(sessions), inserts)
        if updates:
            self.conn.execute(
                update(sessions)
                .where(sessions.c.id == bindparam("row_id"))
                .values({k: bindparam(f"new_{k}") for k in UPDATED}),
                updates,
            )
        if self._heard:
            self.conn.execute(
                update(access_points)
                .where(access_points.c.id == bindparam("ap_id"))
                .values(last_accounting_ms=bindparam("heard_ms")),
                [{"ap_id": ap, "heard_ms": ms} for ap, ms in self._heard.items()],
            )
        # Sessions are read again (with their ids) when a later packet needs them.
        self._sessions = {
            k: v for k, v in self._sessions.items() if v["id"] is not None and k not in self._changed
        }
        self._changed = set()
        self._heard = {}


UPDATED = ("updated_ms", "session_seconds", "input_bytes", "output_bytes", "stopped_ms", "terminate_cause")


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
