"""The economic series through NGSI-LD as Smart Data Models `KeyPerformanceIndicator`s: the figure in
force for the newest period, its period and source; read-only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.ngsild.smart_data_models import Model, violations
from tests.ngsild.test_entities import BASE, ERRORS
from tests.ngsild.test_smart_data_models import EXTENSIONS

MODEL = Model("dataModel.KeyPerformanceIndicator", "KeyPerformanceIndicator")
RETAIL = f"{BASE}/entities/urn:ngsi-ld:KeyPerformanceIndicator:economy.retail"


def test_series_are_key_performance_indicators(client: TestClient) -> None:
    figures = {
        "figures": [{"series": "retail", "period": "2026-02", "value": 4321.5, "source": "Cục Thống kê"}]
    }
    assert client.post("/api/economy/figures", json=figures).status_code == 201

    answer = client.get(f"{BASE}/entities", params={"type": "KeyPerformanceIndicator", "limit": 1000})
    assert answer.status_code == 200, answer.text
    series = [e for e in answer.json() if e["id"].startswith("urn:ngsi-ld:KeyPerformanceIndicator:economy.")]
    assert len(series) >= 5  # the published 2021 figures and the one above
    for entity in series:
        assert violations(entity, MODEL, EXTENSIONS[MODEL.name], any_type=("kpiValue",)) == [], entity

    retail = client.get(RETAIL).json()
    assert retail["kpiValue"]["value"] == 4321.5 and retail["source"]["value"] == "Cục Thống kê"
    assert retail["calculationPeriod"]["value"] == {"from": "2026-02-01", "to": "2026-02-28"}
    assert retail["calculationFrequency"]["value"] == "monthly" and retail["simulated"]["value"] is False
    fdi = client.get(f"{BASE}/entities/urn:ngsi-ld:KeyPerformanceIndicator:economy.fdi_attracted").json()
    assert fdi["qualifier"]["value"] == "over"
    refused = client.delete(RETAIL)
    assert (refused.status_code, refused.json()["type"]) == (422, ERRORS + "OperationNotSupported")
