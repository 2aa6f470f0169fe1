"""Agency officers see and act only on the incidents of their agency and areas: lists and map narrowed by
`restrict`, one incident by `ensure_in_scope` (404 outside, the very answer a missing incident gets, so
guessing ids reveals nothing and changes nothing), no rules or alerts, and the live feed filtered by
`event_visible`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.api.scoping import ensure_in_scope, event_visible, restrict
from cityops.core import audit
from cityops.core.access.accounts import Principal, Role
from cityops.core.access.tokens import resolve_token
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


def test_an_officer_lists_and_maps_its_incidents_only(client: TestClient, place: Place) -> None:
    mine, assigned = place.incidents["mine"]["id"], place.incidents["assigned"]["id"]
    listed = client.get("/api/incidents", headers=place.officer).json()
    assert (listed["total"], {i["id"] for i in listed["items"]}) == (2, {mine, assigned})
    by_state = client.get("/api/incidents", params={"state": "assigned"}, headers=place.officer).json()
    assert [i["id"] for i in by_state["items"]] == [assigned]
    markers = client.get("/api/incidents/map", headers=place.officer).json()["features"]
    assert {f["id"] for f in markers} == {mine, assigned}
    assert client.get("/api/incidents").json()["total"] == 3  # the admin sees every one


def test_an_officer_cannot_open_incidents_nor_see_rules_and_alerts(client: TestClient, place: Place) -> None:
    officer = place.officer
    for path in ("/api/rules", "/api/rule-templates", "/api/alerts"):
        assert client.get(path, headers=officer).status_code == 403, path
    body = {"title": "x", "category": "traffic"}
    assert client.post("/api/incidents", json=body, headers=officer).status_code == 403


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
    b"\x00\x00\x00\nIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\xb6\x1d\xd4\x91\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_guessing_incident_ids_reveals_and_changes_nothing(
    client: TestClient, kernel: Kernel, place: Place
) -> None:
    other = place.incidents["other"]["id"]
    attached = client.post(f"/api/incidents/{other}/attachments", files={"file": ("a.png", PNG, "image/png")})
    assert attached.status_code == 201
    before = client.get(f"/api/incidents/{other}").json()
    missing = 999_999

    def answer(method: str, path: str, **body: Any) -> tuple[int, Any]:
        response = client.request(method, path, headers=place.officer, **body)
        return response.status_code, response.json()

    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/incidents/{n}", {}),
        ("GET", "/api/incidents/{n}/history", {}),
        ("GET", "/api/incidents/{n}/comments", {}),
        ("GET", "/api/incidents/{n}/attachments", {}),
        ("GET", f"/api/incidents/{{n}}/attachments/{attached.json()['id']}", {}),
        ("POST", "/api/incidents/{n}/transitions", {"json": {"to": "acknowledged"}}),
        ("POST", "/api/incidents/{n}/transitions", {"json": {"to": "assigned", "agency": AGENCY}}),
        ("POST", "/api/incidents/{n}/comments", {"json": {"text": "Đã xử lý"}}),
        ("POST", "/api/incidents/{n}/attachments", {"files": {"file": ("b.png", PNG, "image/png")}}),
    ]
    for method, path, body in calls:
        hidden = answer(method, path.format(n=other), **body)
        absent = answer(method, path.format(n=missing), **body)
        assert hidden[0] == 404 and hidden == absent, (method, path, hidden, absent)
    assert client.get(f"/api/incidents/{other}").json() == before
    with kernel.engine.connect() as conn:
        total, _ = audit.read(conn, audit.AuditFilter(actor=place.principal.actor))
    assert total == 0


def test_an_officers_changes_carry_its_name(client: TestClient, kernel: Kernel, place: Place) -> None:
    mine = place.incidents["mine"]["id"]
    officer = place.officer
    client.post(f"/api/incidents/{mine}/transitions", json={"to": "acknowledged"}, headers=officer)
    client.post(f"/api/incidents/{mine}/comments", json={"text": "Đã đến hiện trường"}, headers=officer)
    history = client.get(f"/api/incidents/{mine}/history", headers=officer).json()
    assert [(h["kind"], h["actor"]) for h in history][1:] == [
        ("transition", place.principal.name),
        ("comment", place.principal.name),
    ]
    with kernel.engine.connect() as conn:
        _, entries = audit.read(conn, audit.AuditFilter(actor=place.principal.actor))
    assert [(e["action"], e["object"]) for e in entries] == [
        ("incident.comment", f"incident:{mine}"),
        ("incident.transition", f"incident:{mine}"),
    ]


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
