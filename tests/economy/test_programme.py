"""Investment projects and their rankings, the programme's portfolio and the pilot comparison on
wifi use by ward, through the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import HeadersFor

from cityops.core.access.accounts import Role
from cityops.core.kernel import Kernel
from cityops.core.schema import entities
from cityops.economy.comparison import VN


def project(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Nhà máy linh kiện",
        "investor": "ABC Co.",
        "country": "JP",
        "sector": "electronics",
        "park": "vsip-2",
        "registered_musd": 100.0,
        "disbursed_musd": 40.0,
        "status": "operating",
        "licensed_on": "2020-05-01",
        "source": "test",
        **fields,
    }


def test_rankings_by_country_sector_and_park(client: TestClient) -> None:
    items = [
        project(),
        project(registered_musd=50.0, disbursed_musd=0.0, sector="logistics", park=None),
        project(country="KR", registered_musd=120.0, park="vsip-1"),
        project(country="SG", registered_musd=10.0, disbursed_musd=1.0, sector="logistics", park="vsip-1"),
    ]
    assert client.post("/api/economy/projects", json=items).status_code == 201
    ranking = client.get("/api/economy/rankings", params={"by": "country", "lang": "ja"}).json()
    assert [
        (r["rank"], r["key"], r["name"], r["projects"], r["registered_musd"]) for r in ranking["ranking"]
    ] == [
        (1, "JP", "日本", 2, 150.0),
        (2, "KR", "韓国", 1, 120.0),
        (3, "SG", "シンガポール", 1, 10.0),
    ]
    [japan] = ranking["published"]
    assert (japan["rank"], japan["of_countries"], japan["projects"], japan["registered_musd"]) == (
        2,
        65,
        327,
        5700.0,
    )
    assert japan["simulated"] is False
    sectors = client.get("/api/economy/rankings", params={"by": "sector"}).json()["ranking"]
    assert [(r["key"], r["registered_musd"]) for r in sectors] == [
        ("electronics", 220.0),
        ("logistics", 60.0),
    ]
    parks = client.get("/api/economy/rankings", params={"by": "park"}).json()["ranking"]
    assert [(r["key"], r["projects"]) for r in parks] == [("vsip-1", 2), ("vsip-2", 1)]


def test_bad_projects_store_none(client: TestClient) -> None:
    items = [project(), project(country="japan", disbursed_musd=500.0, park="nowhere", sector="magic")]
    response = client.post("/api/economy/projects", json=items)
    assert response.status_code == 422
    fields = {tuple(e["loc"][1:]) for e in response.json()["detail"]}
    assert {(1, "country"), (1, "park"), (1, "sector")} <= fields
    assert client.get("/api/economy/projects").json() == []
    assert client.post("/api/economy/projects", json=[project(area_code="legacy:0")]).status_code == 422


def test_industrial_parks_are_on_the_map_said_approximate(client: TestClient) -> None:
    parks = client.get("/api/entities", params={"type": "IndustrialPark"}).json()["features"]
    assert len(parks) == 6
    assert all(f["properties"]["attributes"]["approximate_location"] is True for f in parks)
    assert all(f["properties"]["area_code"] for f in parks)  # each falls inside the province


def programme_project(**fields: Any) -> dict[str, Any]:
    return {
        "code": "wifi",
        "title": {"vi": "Wifi cộng đồng", "ja": "コミュニティWi-Fi"},
        "partner": "NTT East, Becamex IDC",
        "scope": "community wifi hotspots",
        "budget_bn_vnd": 120.0,
        "status": "piloting",
        "indicators": ["wifi.access_points_up", "wifi.active_users"],
        "milestones": [
            {"title": {"vi": "Thí điểm 3 phường"}, "due": "2026-03-31", "done": "2026-03-20"},
            {"title": {"vi": "Mở rộng toàn tỉnh"}, "due": "2026-10-31"},
            {"title": {"vi": "Đánh giá"}, "due": "2027-03-31"},
        ],
        **fields,
    }


def test_programme_board_marks_late_milestones(client: TestClient, headers_for: HeadersFor) -> None:
    assert client.put("/api/economy/programme/projects", json=[programme_project()]).status_code == 200
    board = client.get("/api/economy/programme", params={"today": "2026-11-15"}).json()
    [wifi] = board["projects"]
    assert [m["late"] for m in wifi["milestones"]] == [False, True, False]
    assert wifi["late_milestones"] == 1
    assert wifi["title"]["en"] == "Wifi cộng đồng"  # falls back to Vietnamese
    assert set(board["indicators"]) == {"wifi.access_points_up", "wifi.active_users"}
    bad = client.put(
        "/api/economy/programme/projects", json=[programme_project(indicators=["wifi.nonsense"])]
    )
    assert bad.status_code == 422 and "wifi.nonsense" in bad.text
    leader = client.put(
        "/api/economy/programme/projects", json=[programme_project()], headers=headers_for(Role.LEADER)
    )
    assert leader.status_code == 403


def test_pilot_comparison_on_wifi_use_by_ward(client: TestClient, kernel: Kernel) -> None:
    with kernel.engine.connect() as conn:
        rows = conn.execute(
            select(entities.c.urn, entities.c.legacy_area_code).where(entities.c.type == "AccessPoint")
        ).all()
    wards = sorted({r.legacy_area_code for r in rows if r.legacy_area_code})
    assert len(wards) >= 6
    pilots = set(wards[: len(wards) // 2])
    change = date(2026, 6, 1)
    rollout = [{"area_code": w, "wave": 0 if w in pilots else 1, "starts": "2026-06-01"} for w in wards]
    assert client.put("/api/economy/programme/rollout", json=rollout).status_code == 200
    points = []
    for index, row in enumerate(rows):
        if not row.legacy_area_code:
            continue
        base = 20.0 + 3 * (index % 7)
        for offset in range(-10, 10):
            day = change + timedelta(days=offset)
            moment = datetime(day.year, day.month, day.day, 12, tzinfo=VN)
            after = offset >= 0
            value = (
                base + (2.0 if after else 0.0) + (8.0 if after and row.legacy_area_code in pilots else 0.0)
            )
            value += (offset % 3) * 0.5  # day-to-day noise, alike before and after
            points.append(
                {"entity": row.urn, "metric": "activeUsers", "time": moment.isoformat(), "value": value}
            )
    assert client.post("/api/ingest", json={"points": points}).status_code == 202
    response = client.get(
        "/api/economy/programme/comparison",
        params={
            "entity_type": "AccessPoint",
            "metric": "activeUsers",
            "since": "2026-05-01",
            "change": "2026-06-01",
            "until": "2026-07-01",
        },
    )
    assert response.status_code == 200, response.text
    estimate = response.json()["estimate"]
    assert abs(estimate["effect"] - 8.0) < 0.6
    assert estimate["low"] <= estimate["effect"] <= estimate["high"]
    assert estimate["low"] > 5.0
    assert "bootstrap" in estimate["method"]
    assert estimate["pilots"] == len(pilots)
    too_early = client.get(
        "/api/economy/programme/comparison",
        params={
            "entity_type": "AccessPoint",
            "metric": "activeUsers",
            "since": "2026-01-01",
            "change": "2026-02-01",
            "until": "2026-03-01",
        },
    )
    assert too_early.status_code == 422 and "at least 2 pilot" in too_early.text
