"""Integers past 64 bits in paths and query parameters, and nulls for fields that cannot be null, are
refused with 422 naming the field — never a 500 from the store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HUGE = str(2**64 + 7)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/incidents/{HUGE}", "incident_id"),
        (f"/api/incidents/{HUGE}/history", "incident_id"),
        (f"/api/alerts/{HUGE}", "alert_id"),
        (f"/api/incidents?offset={HUGE}", "offset"),
        (f"/api/alerts?offset={HUGE}", "offset"),
        (f"/api/audit?offset={HUGE}", "offset"),
        (f"/api/reports/{HUGE}", "report_id"),
        (f"/api/reports/public/requests/{HUGE}", "report_id"),
        (f"/api/series?entity=urn:ngsi-ld:Camera:tdm-001&metric=intensity&start={HUGE}", "start"),
    ],
)
def test_integers_past_64_bits_get_422(client: TestClient, url: str, field: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 422, (url, answer.status_code, answer.text[:300])
    assert f'"{field}"' in answer.text, answer.text[:300]  # named, in `loc` or in `field`


def test_deleting_a_token_past_64_bits_gets_422(client: TestClient) -> None:
    assert client.delete(f"/api/tokens/{HUGE}").status_code == 422


@pytest.mark.parametrize("field", ["display_name", "role", "area_codes", "disabled", "password"])
def test_null_for_a_field_that_cannot_be_null_gets_422(client: TestClient, field: str) -> None:
    client.post("/api/users", json={"username": "nullable", "role": "leader"})
    answer = client.patch("/api/users/nullable", json={field: None})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", field]
    assert client.get("/api/users/nullable").json()["role"] == "leader"


def test_a_nul_character_never_gives_a_server_error(client: TestClient) -> None:
    """PostgreSQL refuses NUL in text (a DataError): the answer is a 4xx on every backend."""
    del client.headers["Authorization"]
    answer = client.post("/api/auth/login", json={"username": "\u0000", "password": "x" * 12})
    assert answer.status_code in (401, 422), answer.text
