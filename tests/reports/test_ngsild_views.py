"""Approved citizens' reports through NGSI-LD as Smart Data Models Open311 service requests
(`service_requests`, dataModel.IssueTracking): public fields only, never the reporter's contact; a
pending or refused report is not there; the view is read-only."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient
from tests.ngsild.smart_data_models import Model, violations
from tests.ngsild.test_entities import BASE, ERRORS

from .conftest import DI_AN, THU_DAU_MOT
from .test_moderation import CONTACT, submit

MODEL = Model("dataModel.IssueTracking", "service_requests")
# The model's own members for a reporter (first_name, last_name, email, phone, account_id, device_id):
# cityops never fills them.
CONTACT_MEMBERS = ("first_name", "last_name", "email", "phone", "account_id", "device_id")


def test_approved_reports_are_open311_service_requests(client: TestClient) -> None:
    approved = submit(client, THU_DAU_MOT, text="Ổ gà lớn, gọi 0912345678 để biết thêm")
    pending = submit(client, DI_AN)
    assert client.post(f"/api/reports/{approved}/approve").status_code == 200

    answer = client.get(f"{BASE}/entities", params={"type": "service_requests"})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [e["id"] for e in found] == [f"urn:ngsi-ld:service_requests:{approved}"]
    request = found[0]
    assert violations(request, MODEL) == []
    assert request["service_request_id"]["value"] == approved and request["status"]["value"] == "open"
    assert request["service_code"]["value"] == "waste"
    assert request["location"]["value"]["coordinates"] == [THU_DAU_MOT[1], THU_DAU_MOT[0]]
    # the description is screened as the open data is: no phone number, no contact detail anywhere
    assert "0912345678" not in request["description"]["value"]
    text = orjson.dumps(answer.json()).decode()
    for secret in CONTACT.values():
        assert secret not in text
    assert not set(CONTACT_MEMBERS) & set(request)

    hidden = client.get(f"{BASE}/entities/urn:ngsi-ld:service_requests:{pending}")
    assert (hidden.status_code, hidden.json()["type"]) == (404, ERRORS + "ResourceNotFound")
    kept = client.get(f"{BASE}/entities", params={"type": "service_requests", "q": 'status=="closed"'})
    assert kept.json() == []
    refused = client.patch(
        f"{BASE}/entities/urn:ngsi-ld:service_requests:{approved}/attrs", json={"status": "closed"}
    )
    assert (refused.status_code, refused.json()["type"]) == (422, ERRORS + "OperationNotSupported")
