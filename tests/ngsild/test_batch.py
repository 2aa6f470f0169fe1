"""Batch operations with their partial-success answers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import HeadersFor
from tests.ngsild.test_entities import BASE, ERRORS, access_point, now_iso

from cityops.core.access.accounts import Role

OPS = f"{BASE}/entityOperations"


def test_create_reports_each_failure(client: TestClient) -> None:
    client.post(f"{BASE}/entities", json=access_point("b-0"))
    batch = [
        access_point("b-1"),
        access_point("b-0"),
        {**access_point("b-2"), "type": "Nope"},
        access_point("b-3"),
    ]
    answer = client.post(f"{OPS}/create", json=batch)
    assert answer.status_code == 207
    body = answer.json()
    assert body["success"] == ["urn:ngsi-ld:AccessPoint:b-1", "urn:ngsi-ld:AccessPoint:b-3"]
    errors = {e["entityId"]: e["error"]["type"] for e in body["errors"]}
    assert errors == {
        "urn:ngsi-ld:AccessPoint:b-0": ERRORS + "AlreadyExists",
        "urn:ngsi-ld:AccessPoint:b-2": ERRORS + "BadRequestData",
    }
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:b-3").status_code == 200
    clean = client.post(f"{OPS}/create", json=[access_point("b-4")])
    assert (clean.status_code, clean.json()) == (201, ["urn:ngsi-ld:AccessPoint:b-4"])


def test_upsert_creates_then_replaces_or_updates(client: TestClient) -> None:
    first = client.post(f"{OPS}/upsert", json=[access_point("u-1", floor=1, room="A")])
    assert (first.status_code, first.json()) == (201, ["urn:ngsi-ld:AccessPoint:u-1"])
    value = {"type": "Property", "value": 12, "observedAt": now_iso(-2)}
    updated = client.post(
        f"{OPS}/upsert?options=update",
        json=[{"id": "urn:ngsi-ld:AccessPoint:u-1", "type": "AccessPoint", "floor": 2, "activeUsers": value}],
    )
    assert updated.status_code == 204
    entity = client.get(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:u-1?options=keyValues").json()
    assert (entity["floor"], entity["room"], entity["activeUsers"]) == (2, "A", 12)
    replaced = client.post(f"{OPS}/upsert", json=[access_point("u-1", floor=3)])
    assert replaced.status_code == 204
    entity = client.get(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:u-1?options=keyValues").json()
    assert entity["floor"] == 3 and "room" not in entity
    assert entity["activeUsers"] == 12  # the series stays


def test_update_and_delete(client: TestClient) -> None:
    client.post(f"{OPS}/create", json=[access_point("d-1", floor=1), access_point("d-2", floor=1)])
    update = client.post(
        f"{OPS}/update?options=noOverwrite",
        json=[
            {"id": "urn:ngsi-ld:AccessPoint:d-1", "type": "AccessPoint", "room": "B"},
            {"id": "urn:ngsi-ld:AccessPoint:d-2", "type": "AccessPoint", "floor": 5},
            {"id": "urn:ngsi-ld:AccessPoint:d-9", "type": "AccessPoint", "floor": 5},
        ],
    )
    assert update.status_code == 207
    assert update.json()["success"] == ["urn:ngsi-ld:AccessPoint:d-1"]
    assert [e["error"]["status"] for e in update.json()["errors"]] == [400, 404]
    deleted = client.post(
        f"{OPS}/delete", json=["urn:ngsi-ld:AccessPoint:d-1", "urn:ngsi-ld:AccessPoint:d-9"]
    )
    assert deleted.status_code == 207
    assert deleted.json()["success"] == ["urn:ngsi-ld:AccessPoint:d-1"]
    assert client.post(f"{OPS}/delete", json=["urn:ngsi-ld:AccessPoint:d-2"]).status_code == 204
    assert client.post(f"{OPS}/delete", json=[]).status_code == 400
    too_many = client.post(f"{OPS}/create", json=[access_point(f"x-{n}") for n in range(1001)])
    assert too_many.status_code == 400 and "1000" in too_many.json()["detail"]


def test_devices_upsert_values_of_existing_entities_only(client: TestClient, headers_for: HeadersFor) -> None:
    client.post(f"{OPS}/create", json=[access_point("dev-1")])
    device = headers_for(Role.DEVICE)
    value = {"type": "Property", "value": 4, "observedAt": now_iso(-1)}
    answer = client.post(
        f"{OPS}/upsert",
        json=[
            {"id": "urn:ngsi-ld:AccessPoint:dev-1", "type": "AccessPoint", "activeUsers": value},
            {"id": "urn:ngsi-ld:AccessPoint:dev-2", "type": "AccessPoint", "activeUsers": value},
        ],
        headers=device,
    )
    assert answer.status_code == 207
    assert answer.json()["success"] == ["urn:ngsi-ld:AccessPoint:dev-1"]
    assert answer.json()["errors"][0]["error"]["status"] == 403
