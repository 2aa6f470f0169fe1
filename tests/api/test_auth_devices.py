"""Device tokens send data points and what a domain grants them, nothing else: they never create, rename,
move or re-attribute an entity, and a point for an entity nobody registered creates none."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.conftest import HeadersFor

from cityops.core.access.accounts import Role
from cityops.core.kernel import Kernel
from cityops.core.schema import entities

CAMERA = "urn:ngsi-ld:Camera:tdm-001"


def entity_row(kernel: Kernel, urn: str) -> Any:
    with kernel.engine.connect() as conn:
        return conn.execute(select(entities).where(entities.c.urn == urn)).first()


def test_a_device_may_not_create_rename_or_move_entities(
    client: TestClient, kernel: Kernel, headers_for: HeadersFor
) -> None:
    device = headers_for(Role.DEVICE)
    before = entity_row(kernel, CAMERA)
    assert before is not None
    attempts = [
        {"id": "urn:ngsi-ld:Camera:planted-1", "name": "Planted", "location": None},
        {"id": CAMERA, "name": "Renamed by a device", "location": {"type": "Point", "coordinates": [0, 0]}},
        {"id": CAMERA, "name": before.name, "attributes": {"streamUrl": "rtsp://evil.example/"}},
    ]
    for body in attempts:
        response = client.post("/api/entities", json=body, headers=device)
        assert response.status_code == 403, response.text
        assert response.json()["detail"]["code"] == "device_ingest_only"
    assert entity_row(kernel, "urn:ngsi-ld:Camera:planted-1") is None
    after = entity_row(kernel, CAMERA)
    assert (after.name, after.lon, after.lat, after.attributes) == (
        before.name,
        before.lon,
        before.lat,
        before.attributes,
    )


def test_a_point_for_an_unknown_entity_creates_nothing(
    client: TestClient, kernel: Kernel, headers_for: HeadersFor
) -> None:
    with kernel.engine.connect() as conn:
        known = conn.execute(select(func.count()).select_from(entities)).scalar_one()
    point = {
        "entity": "urn:ngsi-ld:Camera:ghost",
        "metric": "intensity",
        "time": 1_790_000_000_000,
        "value": 1,
    }
    response = client.post("/api/ingest", json={"points": [point]}, headers=headers_for(Role.DEVICE))
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "entity"
    with kernel.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entities)).scalar_one() == known


def test_operators_still_register_entities(client: TestClient, headers_for: HeadersFor) -> None:
    body = {"id": "urn:ngsi-ld:Camera:new-by-operator", "name": "Camera mới", "location": None}
    assert client.post("/api/entities", json=body, headers=headers_for(Role.OPERATOR)).status_code == 201
