"""The demo's economy is marked simulated throughout and leaves the published figures as published."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.economy import demo


def test_demo_data_is_simulated_and_published_figures_stay(client: TestClient, kernel: Kernel) -> None:
    with write_transaction(kernel.engine) as conn:
        demo.load(conn, date(2026, 11, 15), {i.id for i in kernel.indicators})
        demo.load(conn, date(2026, 11, 15), set())  # a second start adds nothing
    rows = client.get("/api/economy/overview", params={"year": 2026, "through": 11}).json()
    exports = next(r for r in rows if r["series"]["code"] == "exports")
    assert exports["period"] == "2026-01..10" and exports["simulated"] is True
    assert exports["change_pct"] is not None and exports["target"]["simulated"] is True
    assert "simulator" in exports["source"]
    published = client.get("/api/economy/overview", params={"year": 2021, "through": 9}).json()
    assert all(not r["simulated"] for r in published if r["period"] is not None)
    projects = client.get("/api/economy/projects").json()
    assert len(projects) == 40 and all(p["simulated"] for p in projects)
    board = client.get("/api/economy/programme", params={"today": "2026-11-15"}).json()
    assert {p["code"] for p in board["projects"]} >= {"telecom", "community_wifi", "business_dx"}
    assert all(p["simulated"] for p in board["projects"])
    assert any(p["late_milestones"] for p in board["projects"])
    assert [loc["wave"] for loc in board["localities"]].count(0) >= 2
