"""Hotspot health: a heartbeat per device and the accounting it relays.

A device pushes `POST /api/wifi/access-points/{id}/heartbeat` with its own key (issued when it was
registered) and a NetJSON `DeviceMonitoring`-like body (`resources`, `interfaces`). A hotspot is up while
it has sent a heartbeat or accounting within `down_after_seconds`; past that it is down. Its state goes to
the kernel as the `up` metric (and `activeUsers`, its open sessions) every sweep, and the shipped rule
`wifi-hotspot-down` raises the alert. A site (the place several devices share) is up when all its devices
are, down when none is, and degraded in between: two devices down of thirteen do not paint it red.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, func, select, update

from cityops.wifi.errors import WifiError
from cityops.wifi.registry import digest
from cityops.wifi.schema import access_points, sessions

HEARTBEAT_MAX_BYTES = 16_384

DOWN_RULE: dict[str, Any] = {
    "id": "wifi-hotspot-down",
    "kind": "threshold",
    "entity_type": "AccessPoint",
    "metric": "up",
    "op": "<",
    "value": 0.5,
    "severity": "medium",
    "category": "infrastructure",
    "sub_category": "deviceOffline",
    "title": {
        "vi": "Điểm phát wifi ngừng hoạt động",
        "en": "Wifi hotspot down",
        "ja": "Wi-Fiアクセスポイント停止",
    },
}


class Resources(BaseModel):
    model_config = ConfigDict(extra="allow")

    load: Annotated[list[Annotated[float, Field(ge=0, allow_inf_nan=False)]], Field(max_length=3)] = []
    cpus: Annotated[int | None, Field(ge=1, le=1024)] = None


class Heartbeat(BaseModel):
    """NetJSON DeviceMonitoring-like: the fields cityops reads are checked, the rest kept as sent."""

    model_config = ConfigDict(extra="allow")

    type: Literal["DeviceMonitoring"] = "DeviceMonitoring"
    resources: Resources | None = None
    interfaces: Annotated[list[dict[str, Any]], Field(max_length=64)] = []


def record_heartbeat(conn: Connection, ap_id: str, key: str, body: Heartbeat, now_ms: int) -> None:
    row = conn.execute(select(access_points.c.key_hash).where(access_points.c.id == ap_id)).first()
    # The same answer for an unknown device and a wrong key.
    if row is None or not hmac.compare_digest(row.key_hash, digest(key)):
        raise WifiError(401, "key", "unknown device or wrong key")
    conn.execute(
        update(access_points)
        .where(access_points.c.id == ap_id)
        .values(last_heartbeat_ms=now_ms, health=body.model_dump(mode="json"), state="up")
    )


@dataclass(frozen=True)
class HotspotState:
    id: str
    tenant_id: int
    site: str | None
    up: bool | None  # None: never heard of
    users_now: int


def judge(conn: Connection, now_ms: int, down_after_ms: int) -> list[HotspotState]:
    """Every hotspot's state now, stored in `wifi_access_points.state`."""
    users: dict[str, int] = dict(
        conn.execute(
            select(sessions.c.access_point_id, func.count())
            .where(sessions.c.stopped_ms.is_(None), sessions.c.access_point_id.is_not(None))
            .group_by(sessions.c.access_point_id)
        ).all()
    )
    states = []
    for row in conn.execute(select(access_points)).all():
        heard = max(row.last_heartbeat_ms or 0, row.last_accounting_ms or 0)
        up = None if heard == 0 else heard >= now_ms - down_after_ms
        state = "unknown" if up is None else ("up" if up else "down")
        if state != row.state:
            conn.execute(update(access_points).where(access_points.c.id == row.id).values(state=state))
        states.append(HotspotState(row.id, row.tenant_id, row.site, up, int(users.get(row.id, 0))))
    return states


SiteState = Literal["up", "degraded", "down", "unknown"]


def site_state(devices: list[bool | None]) -> SiteState:
    known = [d for d in devices if d is not None]
    if not known:
        return "unknown"
    if all(known):
        return "up"
    return "down" if not any(known) else "degraded"
