"""Who may do what through NGSI-LD (the rest of the API's roles), and NGSILD-Tenant as an area."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import HeadersFor
from tests.ngsild.test_entities import BASE, ERRORS, access_point, now_iso

from cityops.core.access.accounts import Role
from cityops.core.kernel import Kernel


def test_roles(client: TestClient, headers_for: HeadersFor) -> None:
    urn = "urn:ngsi-ld:AccessPoint:roles-1"
    assert client.post(f"{BASE}/entities", json=access_point("roles-1")).status_code == 201
    leader = headers_for(Role.LEADER)
    device = headers_for(Role.DEVICE)
    operator = headers_for(Role.OPERATOR)
    assert client.get(f"{BASE}/entities/{urn}", headers=leader).status_code == 200
    refused = client.patch(f"{BASE}/entities/{urn}/attrs", json={"floor": 1}, headers=leader)
    assert refused.status_code == 403
    assert refused.json()["status"] == 403 and refused.json()["code"] == "forbidden"
    # devices send their metrics, nothing else
    value = {"activeUsers": {"type": "Property", "value": 5, "observedAt": now_iso(-1)}}
    assert client.post(f"{BASE}/entities/{urn}/attrs", json=value, headers=device).status_code == 204
    assert client.get(f"{BASE}/entities/{urn}", headers=device).status_code == 403
    assert client.post(f"{BASE}/entities/{urn}/attrs", json={"floor": 2}, headers=device).status_code == 403
    assert client.post(f"{BASE}/entities", json=access_point("roles-2"), headers=device).status_code == 403
    assert client.delete(f"{BASE}/entities/{urn}", headers=device).status_code == 403
    assert client.post(f"{BASE}/entities", json=access_point("roles-2"), headers=operator).status_code == 201
    nobody = client.get(f"{BASE}/entities/{urn}", headers={"Authorization": ""})
    assert nobody.status_code == 401


def test_tenant_is_an_area(client: TestClient, kernel: Kernel) -> None:
    inside = kernel.area_index.locate(106.652, 10.980, "2025")
    assert inside is not None
    client.post(f"{BASE}/entities", json=access_point("tenant-in", 106.652, 10.980))
    client.post(f"{BASE}/entities", json=access_point("tenant-out", 106.40, 11.40))
    tenant = {"NGSILD-Tenant": inside}
    seen = client.get(f"{BASE}/entities", params={"idPattern": "tenant-"}, headers=tenant).json()
    assert [e["id"] for e in seen] == ["urn:ngsi-ld:AccessPoint:tenant-in"]
    hidden = client.get(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:tenant-out", headers=tenant)
    assert hidden.status_code == 404
    outside = client.post(f"{BASE}/entities", json=access_point("tenant-new", 106.40, 11.40), headers=tenant)
    assert outside.status_code == 400
    unknown = client.get(
        f"{BASE}/entities", params={"type": "AccessPoint"}, headers={"NGSILD-Tenant": "mars"}
    )
    assert (unknown.status_code, unknown.json()["type"]) == (404, ERRORS + "NonexistentTenant")
