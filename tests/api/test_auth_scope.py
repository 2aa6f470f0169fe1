"""Agency officers see and act only on the incidents of their agency and areas: one incident at a time
through the operations API (404 outside, not 403), list queries narrowed by `restrict`, and the live feed
filtered by `event_visible`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.api.scoping import ensure_in_scope, event_visible, restrict
from cityops.core.access import Principal, Role
from cityops.core.access_tokens import resolve_token
from cityops.core.events import IncidentChanged
from cityops.core.kernel import Kernel
from cityops.core.schema_operations import incidents

HeadersFor = Callable[..., dict[str, str]]
AGENCY = "police-tdm"


@dataclass
class Place:
    incidents: dict[
        str, dict[str, Any]
    ]  # "mine" (in the officer's ward), "other", "assigned" (to its agency)
    officer: dict[str, str]
    principal: Principal


@pytest.fixture
def place(client: TestClient, kernel: Kernel, headers_for: HeadersFor) -> Place:
    cameras = client.get("/api/entities", params={"type": "Camera"}).json()["features"]
    first = cameras[0]
    elsewhere = next(
        c for c in cameras if c["properties"]["legacy_area_code"] != first["properties"]["legacy_area_code"]
    )

    def open_at(camera: dict[str, Any], title: str) -> dict[str, Any]:
        body = {"title": title, "category": "traffic", "location": camera["geometry"]}
        response = client.post("/api/incidents", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    made = {
        "mine": open_at(first, "Ùn tắc trong phường"),
        "other": open_at(elsewhere, "Ùn tắc nơi khác"),
        "assigned": open_at(elsewhere, "Tai nạn giao cho công an"),
    }
    assigned = made["assigned"]["id"]
    client.post(f"/api/incidents/{assigned}/transitions", json={"to": "acknowledged"})
    moved = client.post(f"/api/incidents/{assigned}/transitions", json={"to": "assigned", "agency": AGENCY})
    assert moved.status_code == 200, moved.text
    officer = headers_for(
        Role.AGENCY_OFFICER, agency_code=AGENCY, area_codes=(made["mine"]["legacy_area_code"],)
    )
    with kernel.engine.begin() as conn:
        principal = resolve_token(conn, officer["Authorization"].removeprefix("Bearer "))
    assert principal is not None and principal.scope is not None
    return Place(made, officer, principal)


def test_an_officer_reads_and_acts_on_its_incidents_only(client: TestClient, place: Place) -> None:
    mine, other, assigned = (place.incidents[k]["id"] for k in ("mine", "other", "assigned"))
    officer = place.officer
    assert client.get(f"/api/incidents/{mine}", headers=officer).status_code == 200
    assert client.get(f"/api/incidents/{assigned}", headers=officer).status_code == 200
    hidden = client.get(f"/api/incidents/{other}", headers=officer)
    assert hidden.status_code == 404 and hidden.json()["detail"]["code"] == "not_found"
    comment = {"text": "Đã cử người đến hiện trường"}
    assert client.post(f"/api/incidents/{mine}/comments", json=comment, headers=officer).status_code == 201
    assert client.post(f"/api/incidents/{other}/comments", json=comment, headers=officer).status_code == 404
    move = {"to": "acknowledged"}
    assert client.post(f"/api/incidents/{other}/transitions", json=move, headers=officer).status_code == 404
    assert client.post(f"/api/incidents/{mine}/transitions", json=move, headers=officer).status_code == 200


def test_an_officer_cannot_list_or_open_incidents_nor_touch_rules(client: TestClient, place: Place) -> None:
    officer = place.officer
    for method, path in (("GET", "/api/incidents"), ("GET", "/api/rules"), ("GET", "/api/alerts")):
        assert client.request(method, path, headers=officer).status_code == 403, path
    body = {"title": "x", "category": "traffic"}
    assert client.post("/api/incidents", json=body, headers=officer).status_code == 403


def test_restrict_narrows_a_list_query_and_ensure_in_scope_checks_one(kernel: Kernel, place: Place) -> None:
    query = restrict(
        select(incidents.c.id),
        place.principal,
        incidents.c.agency,
        incidents.c.area_code,
        incidents.c.legacy_area_code,
    )
    with kernel.engine.connect() as conn:
        visible = set(conn.execute(query).scalars())
    assert visible == {place.incidents["mine"]["id"], place.incidents["assigned"]["id"]}
    other = place.incidents["other"]
    with pytest.raises(HTTPException) as refused:
        ensure_in_scope(place.principal, other["agency"], other["area_code"], other["legacy_area_code"])
    assert refused.value.status_code == 404
    admin = Principal("boss", Role.ADMIN)
    with kernel.engine.connect() as conn:
        assert len(conn.execute(restrict(select(incidents.c.id), admin, incidents.c.agency)).all()) == 3


def test_the_live_feed_shows_an_officer_its_incidents_only(kernel: Kernel, place: Place) -> None:
    def event(key: str) -> IncidentChanged:
        incident = place.incidents[key]
        return IncidentChanged(incident["id"], "comment", "new", "medium", incident["title"], 0)

    seen = {key: event_visible(kernel.engine, place.principal, event(key)) for key in place.incidents}
    assert seen == {"mine": True, "other": False, "assigned": True}
    leader = Principal("leader", Role.LEADER)
    assert all(event_visible(kernel.engine, leader, event(key)) for key in place.incidents)
