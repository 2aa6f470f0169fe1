"""Each camera's newest flow through NGSI-LD as a Smart Data Models `TrafficFlowObserved`, linked to its
camera by `refDevice`; a camera that has reported no flow has none; read-only."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from tests.ngsild.smart_data_models import Model, violations
from tests.ngsild.test_entities import BASE, ERRORS

MODEL = Model("dataModel.Transportation", "TrafficFlowObserved")
# cityops's attributes beyond the model, and why (docs/ngsild.md).
EXTENSIONS = {"refDevice": "the camera that measured the flow (the model names only a road segment)"}


def test_camera_flows_are_traffic_flow_observed(client: TestClient) -> None:
    ms = int(time.time() * 1000) - 5_000
    observed = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"
    values = {
        name: {"type": "Property", "value": value, "observedAt": observed}
        for name, value in (
            ("intensity", 24),
            ("occupancy", 62.5),
            ("averageVehicleSpeed", 18.0),
            ("congestionLevel", 2),
        )
    }
    camera = "urn:ngsi-ld:Camera:ta-001"
    assert client.post(f"{BASE}/entities/{camera}/attrs", json=values).status_code == 204

    answer = client.get(f"{BASE}/entities", params={"type": "TrafficFlowObserved"})
    assert answer.status_code == 200, answer.text
    assert [e["id"] for e in answer.json()] == ["urn:ngsi-ld:TrafficFlowObserved:ta-001"]
    flow = answer.json()[0]
    assert violations(flow, MODEL, EXTENSIONS) == []
    assert flow["refDevice"] == {"type": "Relationship", "object": camera}
    assert flow["intensity"]["value"] == 24 and flow["occupancy"]["value"] == 0.625
    assert flow["averageVehicleSpeed"]["value"] == 18.0 and flow["congested"]["value"] is True
    assert flow["dateObserved"]["value"] == observed
    assert flow["location"]["value"]["type"] == "Point"
    near = client.get(
        f"{BASE}/entities",
        params={"type": "TrafficFlowObserved", "q": "occupancy>0.5", "attrs": "intensity"},
    ).json()
    assert near == [{"id": flow["id"], "type": "TrafficFlowObserved", "intensity": flow["intensity"]}]
    refused = client.post(f"{BASE}/entityOperations/delete", json=[flow["id"]])
    assert refused.status_code == 207
    assert refused.json()["errors"][0]["error"]["type"] == ERRORS + "OperationNotSupported"
