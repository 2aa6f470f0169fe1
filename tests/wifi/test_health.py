"""Hotspot health: heartbeats with each device's key, down after the tolerance, a kernel alert, sites
degraded rather than down, availability in the day's figures."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from tests.conftest import wait_for
from tests.wifi.conftest import World

from cityops.core.store import write_transaction
from cityops.wifi.health import HEARTBEAT_MAX_BYTES, site_state
from cityops.wifi.schema import access_points

HEARTBEAT = {
    "type": "DeviceMonitoring",
    "resources": {"load": [0.1, 0.2, 0.3], "cpus": 2, "memory": {"total": 268435456, "free": 100000000}},
    "interfaces": [{"name": "wlan0", "wireless": {"clients": []}}],
}


def beat(world: World, ap_id: str, key: str) -> int:
    response = world.client.post(
        f"/api/wifi/devices/{ap_id}/heartbeat", json=HEARTBEAT, headers={"Authorization": f"Bearer {key}"}
    )
    return response.status_code


def test_heartbeat_needs_the_device_key(world: World) -> None:
    assert beat(world, "park-1", world.keys["park-1"]) == 204
    assert beat(world, "park-1", world.keys["park-2"]) == 401  # another device's key
    assert beat(world, "nowhere", world.keys["park-1"]) == 401
    response = world.client.post(
        "/api/wifi/devices/park-1/heartbeat",
        json={**HEARTBEAT, "resources": {"load": [-1]}},
        headers={"Authorization": f"Bearer {world.keys['park-1']}"},
    )
    assert response.status_code == 422 and "load" in response.text
    big = {**HEARTBEAT, "padding": "x" * 20_000}
    response = world.client.post(
        "/api/wifi/devices/park-1/heartbeat",
        json=big,
        headers={"Authorization": f"Bearer {world.keys['park-1']}"},
    )
    assert response.status_code == 413
    # A declared length past the limit is refused before the body is read or parsed.
    response = world.client.post(
        "/api/wifi/devices/park-1/heartbeat",
        content=b"{" * (HEARTBEAT_MAX_BYTES + 1),
        headers={"Authorization": f"Bearer {world.keys['park-1']}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def states(world: World) -> dict[str, str]:
    return {ap["id"]: ap["state"] for ap in world.client.get("/api/wifi/access-points").json()}


def test_down_after_tolerance_raises_an_alert_and_the_site_is_degraded(world: World) -> None:
    for ap_id in ("park-1", "park-2", "cafe-1"):
        assert beat(world, ap_id, world.keys[ap_id]) == 204
    assert world.client.post("/api/wifi/sweep").json() == {"hotspots": 3, "down": 0}
    assert set(states(world).values()) == {"up"}
    # park-2 fell silent 4 minutes ago (tolerance: 3); park-1 still relays accounting.
    long_ago = int(time.time() * 1000) - 240_000
    with write_transaction(world.kernel.engine) as conn:
        conn.execute(
            update(access_points).where(access_points.c.id == "park-2").values(last_heartbeat_ms=long_ago)
        )
        conn.execute(
            update(access_points).where(access_points.c.id == "park-1").values(last_heartbeat_ms=long_ago)
        )
    world.account(Acct_Status_Type="Start", Acct_Session_Id="s", Called_Station_Id="AA-BB-CC-00-00-01:Free")
    assert world.client.post("/api/wifi/sweep").json() == {"hotspots": 3, "down": 1}
    assert states(world) == {"cafe-1": "up", "park-1": "up", "park-2": "down"}
    sites = {s["site"]: s for s in world.client.get("/api/wifi/sites").json()}
    assert sites["Công viên Thủ Dầu Một"]["state"] == "degraded"
    assert sites["Cà phê Sao Dĩ An"]["state"] == "up"

    def alert() -> list[dict[str, object]]:
        found: list[dict[str, object]] = world.client.get("/api/alerts?rule=wifi-hotspot-down").json()[
            "items"
        ]
        return found

    (raised,) = wait_for("the hotspot-down alert", alert, 10)
    assert "park-2" in str(raised)
    # The tile agrees with the alert: the hotspot down is not counted as working (2 of 3 up).
    tiles = {i["id"]: i for i in world.client.get("/api/indicators").json()}
    assert tiles["wifi.access_points_up"]["value"] == pytest.approx(100 * 2 / 3)
    figures = {f["hotspot"]: f for f in world.client.get("/api/wifi/figures?by=hotspot").json()}
    assert figures["park-1"]["users_now"] == 1
    # Two sweeps: park-2 was up at the first, down at the second.
    assert figures["park-2"]["availability_pct"] == 50.0
    assert figures["park-1"]["availability_pct"] == 100.0


@given(st.lists(st.one_of(st.none(), st.booleans()), max_size=20))
def test_site_state_property(devices: list[bool | None]) -> None:
    state = site_state(devices)
    known = [d for d in devices if d is not None]
    if not known:
        assert state == "unknown"
    elif all(known):
        assert state == "up"
    elif any(known):
        assert state == "degraded"
    else:
        assert state == "down"
