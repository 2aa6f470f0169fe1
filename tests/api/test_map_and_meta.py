"""The map's GeoJSON, entity registration, indicators, translations and metadata."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.core.kernel import Kernel


def test_meta_lists_domains_without_kernel_knowing_them(client: TestClient, kernel: Kernel) -> None:
    meta = client.get("/api/meta").json()
    names = {d["name"] for d in meta["domains"]}
    assert names == {d.name for d in kernel.domains}
    assert meta["simulated"] is False
    types = {t["type"]: t for d in meta["domains"] for t in d["entity_types"]}
    assert types["Camera"]["title"]["vi"] == "Camera giám sát giao thông"
    assert {m["name"] for m in types["Camera"]["metrics"]} >= {"intensity", "occupancy"}


def test_areas_geojson_by_scheme_and_level(client: TestClient) -> None:
    wards = client.get("/api/areas", params={"scheme": "legacy", "level": "ward"}).json()
    assert wards["type"] == "FeatureCollection"
    assert len(wards["features"]) == 91
    assert all(f["properties"]["approximate"] for f in wards["features"])
    districts = client.get("/api/areas", params={"scheme": "legacy", "level": "district"}).json()
    assert len(districts["features"]) == 9
    response = client.get("/api/areas", params={"scheme": "1999"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "scheme"]


def test_sample_entities_are_located_in_wards(client: TestClient) -> None:
    cameras = client.get("/api/entities", params={"type": "Camera"}).json()["features"]
    assert len(cameras) >= 10
    assert all(c["properties"]["area_code"].startswith("2025:") for c in cameras)
    assert all(c["properties"]["legacy_area_code"].startswith("legacy:") for c in cameras)


def test_register_entity_and_read_its_latest_value(client: TestClient) -> None:
    body: dict[str, Any] = {
        "id": "urn:ngsi-ld:Camera:new-1",
        "name": "Ngã tư Thủ Dầu Một",
        "location": {"type": "Point", "coordinates": [106.6560, 10.9800]},
    }
    created = client.post("/api/entities", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["area_code"].startswith("2025:")
    point = {"entity": body["id"], "metric": "intensity", "time": "2026-11-23T08:00:00+07:00", "value": 5}
    assert client.post("/api/ingest", json=[point]).status_code == 202
    features = client.get("/api/entities", params={"type": "Camera"}).json()["features"]
    mine = next(f for f in features if f["properties"]["urn"] == body["id"])
    assert mine["properties"]["latest"]["intensity"] == {"value": 5.0, "ts": "2026-11-23T01:00:00Z"}
    assert mine["properties"]["name"] == "Ngã tư Thủ Dầu Một"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "camera-1", "name": "x"}, "id"),
        ({"id": "urn:ngsi-ld:Dragon:1", "name": "x"}, "type"),
        ({"id": "urn:ngsi-ld:Camera:1", "name": " "}, "name"),
    ],
)
def test_bad_entities_are_refused_with_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/entities", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


def test_outside_location_has_no_area(client: TestClient) -> None:
    body = {
        "id": "urn:ngsi-ld:Camera:hanoi",
        "name": "Hà Nội",
        "location": {"type": "Point", "coordinates": [105.85, 21.03]},
    }
    assert client.post("/api/entities", json=body).json()["area_code"] is None


def test_indicators_reflect_fresh_data(client: TestClient, kernel: Kernel) -> None:
    def online() -> dict[str, Any]:
        return next(i for i in client.get("/api/indicators").json() if i["id"] == "traffic.cameras_online")

    assert online()["value"] == 0.0
    assert online()["status"] == "bad"
    cameras = client.get("/api/entities", params={"type": "Camera"}).json()["features"]
    now = kernel.now_ms()
    points = [
        {"entity": c["properties"]["urn"], "metric": metric, "time": now, "value": 1}
        for c in cameras
        for metric in ("intensity", "state")
    ]
    client.post("/api/ingest", json=points)
    assert online()["value"] == 100.0
    assert online()["status"] == "ok"
    assert online()["title"]["ja"] == "稼働中のカメラ"

    # One camera says it is down (the camera-down alert's reading) and still sends counts: not working.
    down = cameras[0]["properties"]["urn"]
    client.post(
        "/api/ingest",
        json=[
            {"entity": down, "metric": "state", "time": now + 1, "value": 0},
            {"entity": down, "metric": "intensity", "time": now + 1, "value": 3},
        ],
    )
    assert online()["value"] == 100.0 * (len(cameras) - 1) / len(cameras)


def test_translations_merge_kernel_and_domains(client: TestClient) -> None:
    texts = client.get("/api/translations/vi").json()
    assert texts["traffic.title"] == "Giao thông"
    assert client.get("/api/translations/fr").status_code == 422
