"""Accounts, tokens and the audit log over HTTP: admins manage accounts (errors name the field), people
manage their own tokens, device tokens only send data, and every change lands in the audit log without
secrets."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from cityops.core.access.accounts import Role

HeadersFor = Callable[..., dict[str, str]]
PASSWORD = "mật khẩu đủ dài 2026"
POINT = {
    "entity": "urn:ngsi-ld:Camera:tdm-001",
    "metric": "intensity",
    "time": "2026-11-23T08:00:00Z",
    "value": 1,
}


def test_admin_creates_lists_and_changes_accounts(client: TestClient) -> None:
    body = {
        "username": "Officer.Police",
        "role": "agency_officer",
        "display_name": "Công an phường Phú Cường",
        "agency_code": "police-tdm",
        "area_codes": ["legacy:718"],
        "password": PASSWORD,
    }
    created = client.post("/api/users", json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["username"], user["role"], user["area_codes"], user["has_password"]) == (
        "officer.police",
        "agency_officer",
        ["legacy:718"],
        True,
    )
    listed = client.get("/api/users").json()
    assert [u["username"] for u in listed] == ["officer.police", "test-admin"]
    assert all("password_hash" not in u for u in listed)
    changed = client.patch("/api/users/officer.police", json={"area_codes": ["legacy:718", "legacy:721"]})
    assert changed.json()["area_codes"] == ["legacy:718", "legacy:721"]
    assert client.get("/api/users/OFFICER.POLICE").json()["display_name"] == "Công an phường Phú Cường"
    assert client.get("/api/users/nobody").status_code == 404
    assert client.post("/api/users", json={**body, "username": "officer.POLICE"}).status_code == 409


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "x"}, "username"),
        ({"username": "bad name!"}, "username"),
        ({"role": "superuser"}, "role"),
        ({"role": "agency_officer"}, "agency_code"),
        ({"role": "agency_officer", "area_codes": ["legacy:0"]}, "area_codes"),
        ({"agency_code": "police"}, "agency_code"),
        ({"password": "short"}, "password"),
    ],
)
def test_bad_accounts_get_422_naming_the_field(
    client: TestClient, changes: dict[str, object], field: str
) -> None:
    response = client.post("/api/users", json={"username": "new.person", "role": "operator", **changes})
    assert response.status_code == 422
    named = {error.get("field", error["loc"][-1]) for error in response.json()["detail"]}
    assert field in named


def test_the_last_admin_cannot_be_demoted_or_disabled(client: TestClient) -> None:
    assert client.patch("/api/users/test-admin", json={"role": "operator"}).status_code == 409
    assert client.patch("/api/users/test-admin", json={"disabled": True}).status_code == 409
    assert client.patch("/api/users/test-admin", json={}).status_code == 422


def test_people_manage_their_own_tokens_only(client: TestClient, headers_for: HeadersFor) -> None:
    leader = headers_for(Role.LEADER)
    issued = client.post("/api/tokens", json={"name": "báo cáo tuần", "expires_days": 30}, headers=leader)
    assert issued.status_code == 201
    secret = issued.json()["token"]
    assert secret.startswith("cityops_") and issued.json()["username"].startswith("leader-")
    assert client.get("/api/meta", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    mine = client.get("/api/tokens", headers=leader).json()
    assert {t["name"] for t in mine} == {"tests", "báo cáo tuần"}
    assert all("token" not in t and secret not in str(t) for t in mine)
    assert client.post("/api/tokens", json={"name": "x", "kind": "device"}, headers=leader).status_code == 403
    for_admin = client.post("/api/tokens", json={"name": "x", "username": "test-admin"}, headers=leader)
    assert for_admin.status_code == 403
    admins_token = next(t for t in client.get("/api/tokens").json() if t["username"] == "test-admin")
    assert client.delete(f"/api/tokens/{admins_token['id']}", headers=leader).status_code == 404
    assert client.delete(f"/api/tokens/{issued.json()['id']}", headers=leader).json()["active"] is False
    assert client.get("/api/meta", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_device_tokens_send_data_and_nothing_else(client: TestClient) -> None:
    issued = client.post("/api/tokens", json={"name": "gateway-tdm", "kind": "device"})
    assert issued.status_code == 201 and issued.json()["username"] is None
    device = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert client.post("/api/ingest", json={"points": [POINT]}, headers=device).status_code == 202
    entity = {"id": "urn:ngsi-ld:Camera:gw-1", "name": "Camera cổng", "location": None}
    assert client.post("/api/entities", json=entity, headers=device).status_code == 403  # points only
    for path in ("/api/entities", "/api/meta", "/api/tokens", "/api/auth/me"):
        assert client.get(path, headers=device).status_code == 403, path
    again = client.post("/api/tokens", json={"name": "gateway-tdm", "kind": "device"})
    assert again.status_code == 409  # one active device token per name keeps the audit log's names clear


def test_every_change_is_in_the_audit_log_without_secrets(client: TestClient) -> None:
    client.post("/api/users", json={"username": "audited", "role": "leader", "password": PASSWORD})
    client.patch("/api/users/audited", json={"display_name": "Lãnh đạo"})
    secret = client.post("/api/tokens", json={"name": "cam-gw", "kind": "device"}).json()["token"]
    entity = {"id": "urn:ngsi-ld:Camera:audit-1", "name": "Camera A", "location": None}
    refused = client.post("/api/entities", json=entity, headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 403  # a device never registers entities, and nothing is logged
    client.post("/api/entities", json=entity)
    client.post("/api/entities", json={**entity, "name": "Camera B"})
    log = client.get("/api/audit", params={"limit": 1000}).json()
    assert secret not in str(log) and PASSWORD not in str(log) and "argon2" not in str(log)
    by_object = client.get("/api/audit", params={"object": "user:audited"}).json()["items"]
    assert [(e["action"], e["actor"]) for e in by_object] == [
        ("user.update", "test-admin"),
        ("user.create", "test-admin"),
    ]
    assert (
        by_object[0]["before"]["display_name"] == "" and by_object[0]["after"]["display_name"] == "Lãnh đạo"
    )
    entity_log = client.get("/api/audit", params={"object_prefix": "entity:urn:ngsi-ld:Camera:audit"}).json()
    (updated, created) = entity_log["items"]
    assert (created["action"], created["actor"], created["before"]) == ("entity.create", "test-admin", None)
    assert (updated["action"], updated["actor"]) == ("entity.update", "test-admin")
    assert (updated["before"]["name"], updated["after"]["name"]) == ("Camera A", "Camera B")
    tokens = client.get("/api/audit", params={"action": "token.create", "actor": "test-admin"}).json()
    assert tokens["total"] == 1 and tokens["items"][0]["after"]["name"] == "cam-gw"
    assert client.get("/api/audit", params={"since": "2026-01-01T00:00:00"}).status_code == 422
    assert client.get("/api/audit", params={"since": "2100-01-01T00:00:00Z"}).json()["total"] == 0
