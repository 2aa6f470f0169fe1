"""Tenant isolation through the API: a business's staff see and manage only their own tenant."""

from __future__ import annotations

from tests.conftest import HeadersFor
from tests.wifi.conftest import World

from cityops.core.access.accounts import Role


def test_business_staff_see_only_their_tenant(world: World, headers_for: HeadersFor) -> None:
    world.account(Acct_Status_Type="Start", Acct_Session_Id="park", User_Name=world.vouchers["cong-dong"])
    world.account(
        "nas-cafe", Acct_Status_Type="Start", Acct_Session_Id="cafe", User_Name=world.vouchers["cafe-sao"]
    )
    cafe = headers_for(Role.AGENCY_OFFICER, agency_code="cafe-sao")
    client = world.client

    def get(path: str, headers: dict[str, str]) -> list[dict[str, object]]:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        result: list[dict[str, object]] = response.json()
        return result

    assert [t["slug"] for t in get("/api/wifi/tenants", cafe)] == ["cafe-sao"]
    assert [a["id"] for a in get("/api/wifi/access-points", cafe)] == ["cafe-1"]
    assert {s["tenant"] for s in get("/api/wifi/sessions", cafe)} == {"cafe-sao"}
    assert {u["tenant"] for u in get("/api/wifi/users", cafe)} == {"cafe-sao"}
    assert [n["name"] for n in get("/api/wifi/nas", cafe)] == ["nas-cafe"]
    assert [f["tenant"] for f in get("/api/wifi/figures?by=tenant", cafe)] == ["cafe-sao"]
    assert world.vouchers["cong-dong"] not in client.get("/api/wifi/users", headers=cafe).text
    # The province sees both.
    assert {s["tenant"] for s in world.sessions()} == {"cafe-sao", "cong-dong"}

    # Another tenant's objects are unknown (404), never changed.
    assert client.get("/api/wifi/tenants/cong-dong/plans", headers=cafe).status_code == 404
    response = client.post("/api/wifi/vouchers", json={"tenant": "cong-dong", "plan": "free"}, headers=cafe)
    assert response.status_code == 404
    body = {"tenant": "cafe-sao", "name": "x", "macAddress": "aa:bb:cc:00:00:09"}
    assert client.put("/api/wifi/access-points/park-1", json=body, headers=cafe).status_code == 409
    # But their own they manage.
    response = client.post(
        "/api/wifi/vouchers", json={"tenant": "cafe-sao", "plan": "guest", "count": 3}, headers=cafe
    )
    assert response.status_code == 201 and len(response.json()) == 3
    # A business cannot make tenants.
    response = client.post(
        "/api/wifi/tenants", json={"slug": "mine", "name": "x", "kind": "business"}, headers=cafe
    )
    assert response.status_code == 403


def test_other_officers_and_leaders(world: World, headers_for: HeadersFor) -> None:
    stranger = headers_for(Role.AGENCY_OFFICER, agency_code="so-giao-thong")
    assert world.client.get("/api/wifi/tenants", headers=stranger).json() == []
    assert world.client.get("/api/wifi/sessions", headers=stranger).json() == []
    leader = headers_for(Role.LEADER)
    assert len(world.client.get("/api/wifi/tenants", headers=leader).json()) == 2
    response = world.client.post(
        "/api/wifi/vouchers", json={"tenant": "cafe-sao", "plan": "guest"}, headers=leader
    )
    assert response.status_code == 403


def test_bad_input_names_the_field(world: World) -> None:
    response = world.client.post(
        "/api/wifi/tenants/cafe-sao/nas", json={"name": "n-1", "ip_address": "1.2.3", "secret": "x"}
    )
    assert response.status_code == 422
    fields = {e["loc"][-1] for e in response.json()["detail"]}
    assert fields == {"ip_address", "secret"}
    response = world.client.post(
        "/api/wifi/tenants/cafe-sao/nas",
        json={"name": "n-1", "ip_address": "10.0.0.1", "secret": 'bad"quote-secret'},
    )
    assert response.status_code == 422 and "secret" in response.text
    response = world.client.post(
        "/api/wifi/tenants/cafe-sao/nas",
        json={"name": "n-2", "ip_address": "127.0.0.9", "secret": "another-secret"},
    )
    assert response.status_code == 409 and response.json()["detail"][0]["field"] == "ip_address"
    response = world.client.put(
        "/api/wifi/access-points/ap-x", json={"tenant": "cafe-sao", "name": "x", "macAddress": "zz"}
    )
    assert response.status_code == 422 and "macAddress" in response.text
    response = world.client.post("/api/wifi/vouchers", json={"tenant": "cafe-sao", "plan": "none"})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "plan"
