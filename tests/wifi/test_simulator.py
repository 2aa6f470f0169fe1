"""The demo's simulated wifi goes through the real registry, heartbeats and the accounting spool."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from cityops.core.kernel import Kernel
from cityops.wifi import simulator
from cityops.wifi.runtime import runtime_of


def test_simulated_hotspots_send_heartbeats_and_accounting(client: TestClient, kernel: Kernel) -> None:
    async def run_a_while() -> None:
        task = asyncio.create_task(simulator.simulate(kernel))
        await asyncio.sleep(simulator.TICK_S + 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    client.portal.call(run_a_while)  # type: ignore[union-attr]
    runtime_of(kernel).accounting.drain()
    points = client.get("/api/wifi/access-points").json()
    assert len(points) == len(simulator.HOTSPOTS)
    assert {p["tenant"] for p in points} == {simulator.TENANT}
    assert sum(p["state"] == "up" for p in points) >= len(points) - 1  # the scripted outage may be on
    sessions = client.get("/api/wifi/sessions?limit=1000").json()
    assert sessions and all(s["device"].startswith("h:") for s in sessions)
    figures = client.get("/api/wifi/figures?by=tenant").json()
    assert figures[0]["tenant"] == simulator.TENANT and figures[0]["users_now"] == len(
        [s for s in sessions if s["stopped_ms"] is None]
    )
    tenant = client.get("/api/wifi/tenants").json()[0]
    assert "mô phỏng" in tenant["name"] and "simulated" in tenant["name"]
