"""Who may read and change the economy's figures."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.conftest import HeadersFor

from cityops.core.access.accounts import Role

FIGURES = {"figures": [{"series": "retail", "period": "2026-01", "value": 1.0, "source": "test"}]}


@pytest.mark.parametrize("role", [Role.LEADER, Role.AGENCY_OFFICER])
def test_people_read_but_only_admins_and_operators_change(
    client: TestClient, headers_for: HeadersFor, role: Role
) -> None:
    headers = headers_for(role, agency_code="so-kh-dt") if role is Role.AGENCY_OFFICER else headers_for(role)
    assert client.get("/api/economy/overview?year=2021", headers=headers).status_code == 200
    assert client.post("/api/economy/figures", json=FIGURES, headers=headers).status_code == 403


def test_an_operator_changes_figures(client: TestClient, headers_for: HeadersFor) -> None:
    response = client.post("/api/economy/figures", json=FIGURES, headers=headers_for(Role.OPERATOR))
    assert response.status_code == 201


def test_devices_and_nobody_are_refused(client: TestClient, headers_for: HeadersFor) -> None:
    device = headers_for(Role.DEVICE)
    assert client.post("/api/economy/figures", json=FIGURES, headers=device).status_code == 403
    del client.headers["Authorization"]
    assert client.get("/api/economy/series").status_code == 401
    assert client.post("/api/economy/figures", json=FIGURES).status_code == 401
