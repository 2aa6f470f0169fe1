"""Who may read and change the economy's figures."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cityops.core.access.accounts import Role
from cityops.core.access.tokens import issue_token
from cityops.core.kernel import Kernel

from .conftest import HeadersFor

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


def test_nobody_and_devices_are_refused(client: TestClient, kernel: Kernel) -> None:
    with kernel.engine.begin() as conn:
        device = issue_token(conn, "sensor-gw", "device", None, actor="tests").secret
    response = client.post(
        "/api/economy/figures", json=FIGURES, headers={"Authorization": f"Bearer {device}"}
    )
    assert response.status_code == 403
    del client.headers["Authorization"]
    assert client.get("/api/economy/series").status_code == 401
    assert client.post("/api/economy/figures", json=FIGURES).status_code == 401
