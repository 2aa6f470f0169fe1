"""The operations API on an app built here with the router alone: rules CRUD with errors naming the field,
alerts in the Smart Data Models shape, incidents with transitions (409 naming from/to), comments and
attachments, each change recorded under the signed-in caller's name in the history and the audit log.

Who may call what is tested on the assembled app (test_auth_roles.py, test_auth_scope.py); here the
caller is an operator, set through FastAPI's override of the `authenticate` dependency."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from cityops.api import operations
from cityops.api.auth import authenticate
from cityops.core import audit
from cityops.core.access.accounts import Principal, Role
from cityops.core.bus import InProcessBus
from cityops.core.domain import EntityType, MetricSpec
from cityops.core.entities import EntityRegistry
from cityops.core.events import ObservationsRecorded
from cityops.core.incidents.desk import IncidentDesk, IncidentSettings
from cityops.core.rules.definitions import RuleTemplate
from cityops.core.rules.engine import RuleCatalogue, RuleEngine
from cityops.core.schema import areas, metadata
from cityops.core.store import open_engine

BASE = 1_790_000_000_000
CAMERA = EntityType(
    "Camera",
    {"vi": "Camera giao thông", "en": "Traffic camera", "ja": "交通カメラ"},
    "#e8590c",
    (MetricSpec("occupancy", "%", {"vi": "Độ chiếm dụng"}),),
)
JAM = RuleTemplate(
    "traffic.jam",
    {"vi": "Ùn tắc", "en": "Congestion", "ja": "渋滞"},
    {
        "kind": "threshold",
        "entity_type": "Camera",
        "metric": "occupancy",
        "op": ">",
        "value": 80,
        "category": "traffic",
        "sub_category": "trafficJam",
        "severity": "high",
    },
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
    b"\x00\x00\x00\nIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\xb6\x1d\xd4\x91\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Setup:
    def __init__(self, folder: Path) -> None:
        self.engine = open_engine(f"sqlite:///{folder / 'api.sqlite'}")
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for code, parent in (("D1", None), ("W1", "D1"), ("W2", None)):
                conn.execute(
                    insert(areas).values(
                        code=code,
                        scheme="2025",
                        level="ward",
                        official_code=code,
                        name=code,
                        parent_code=parent,
                        approximate=False,
                        properties={},
                    )
                )
        locate = lambda lon, lat, scheme: "W1" if lon < 106.7 else "W2"  # noqa: E731
        self.registry = EntityRegistry(self.engine, locate)
        self.registry.register_types([CAMERA])
        self.cameras = [
            self.registry.upsert(f"urn:ngsi-ld:Camera:c{i}", f"Camera {i}", 106.6 + 0.2 * i, 11.0)[0]
            for i in range(2)
        ]
        self.bus = InProcessBus()
        self.rules = RuleEngine(self.engine, self.bus, RuleCatalogue({"Camera": CAMERA}, {}, {JAM.id: JAM}))
        self.rules.attach()
        settings = IncidentSettings(attachments_dir=folder / "files", max_attachment_bytes=4096)
        self.desk = IncidentDesk(self.engine, self.bus, settings, locate=locate)
        self.desk.attach()
        app = FastAPI()
        app.state.rules = self.rules
        app.state.incidents = self.desk
        app.include_router(operations.router)
        self.caller = Principal("truc-ban-1", Role.OPERATOR)
        app.dependency_overrides[authenticate] = lambda: self.caller
        self.app = app
        self.batch = 0

    def occupancy(self, client: TestClient, *values: float) -> None:
        metric_id = self.registry.metric_id("Camera", "occupancy")
        assert metric_id is not None
        self.batch += 1
        newest = tuple(
            (cam.id, metric_id, BASE + self.batch * 1000, v)
            for cam, v in zip(self.cameras, values, strict=False)
        )
        event = ObservationsRecorded(self.batch, BASE, len(newest), (), newest)
        assert client.portal is not None
        client.portal.call(self.bus.publish, event)

    def audit_log(self, **where: str) -> list[dict[str, Any]]:
        """Audit entries, oldest first."""
        with self.engine.connect() as conn:
            _, entries = audit.read(conn, audit.AuditFilter(**where), limit=1000)
        return entries[::-1]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


@pytest.fixture
def client(setup: Setup) -> Iterator[TestClient]:
    with TestClient(setup.app) as test_client:
        yield test_client


def fields(response: Any) -> set[str]:
    """The fields an error answer names (ours carry `field`; FastAPI's own carry only `loc`)."""
    return {error.get("field", error["loc"][-1]) for error in response.json()["detail"]}


RULE = {
    "id": "busy",
    "kind": "threshold",
    "title": {"vi": "Đông xe", "en": "Busy", "ja": "混雑"},
    "category": "traffic",
    "entity_type": "Camera",
    "metric": "occupancy",
    "op": ">",
    "value": 70,
}


def test_rules_crud(client: TestClient) -> None:
    created = client.post("/api/rules", json=RULE)
    assert created.status_code == 201
    assert (created.json()["source"], created.json()["open_alerts"], created.json()["severity"]) == (
        "api",
        0,
        "medium",
    )
    assert [r["id"] for r in client.get("/api/rules").json()] == ["busy"]
    assert client.post("/api/rules", json=RULE).status_code == 409
    replaced = client.put(
        "/api/rules/busy", json={k: v for k, v in RULE.items() if k != "id"} | {"value": 75}
    )
    assert (replaced.status_code, replaced.json()["value"]) == (200, 75)
    wrong_id = client.put("/api/rules/busy", json={**RULE, "id": "other"})
    assert (wrong_id.status_code, fields(wrong_id)) == (422, {"id"})
    assert client.delete("/api/rules/busy").status_code == 204
    assert client.get("/api/rules/busy").status_code == 404
    assert client.delete("/api/rules/busy").status_code == 404


def test_bad_rules_get_422_naming_the_field(client: TestClient) -> None:
    bad = client.post("/api/rules", json={**RULE, "op": "~", "value": "high", "severity": "urgent"})
    assert (bad.status_code, fields(bad)) == (422, {"op", "value", "severity"})
    unknown = client.post("/api/rules", json={**RULE, "metric": "colour", "area": "nowhere"})
    assert (unknown.status_code, fields(unknown)) == (422, {"metric", "area"})
    assert "occupancy" in unknown.json()["detail"][0]["msg"]
    no_kind = client.post("/api/rules", json={k: v for k, v in RULE.items() if k != "kind"})
    assert fields(no_kind) == {"kind"}
    assert client.post("/api/rules", json=[RULE]).status_code == 422


def test_rules_from_domain_templates(client: TestClient) -> None:
    assert [t["id"] for t in client.get("/api/rule-templates").json()] == ["traffic.jam"]
    created = client.post("/api/rules", json={"template": "traffic.jam", "area": "D1", "value": 90})
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["value"], body["area"], body["title"]["ja"], body["sub_category"]) == (
        "threshold",
        90,
        "D1",
        "渋滞",
        "trafficJam",
    )
    missing = client.post("/api/rules", json={"template": "traffic.storm"})
    assert (missing.status_code, fields(missing)) == (422, {"template"})


def test_alerts_in_the_smart_data_models_shape(client: TestClient, setup: Setup) -> None:
    client.post("/api/rules", json={**RULE, "severity": "high", "sub_category": "trafficJam"})
    setup.occupancy(client, 90, 95)
    setup.occupancy(client, 90, 10)
    every = client.get("/api/alerts", params={"state": "all"}).json()
    assert every["total"] == 2
    open_ = client.get("/api/alerts").json()
    assert open_["total"] == 1
    alert = open_["items"][0]
    assert {
        k: alert[k]
        for k in ("type", "category", "subCategory", "severity", "alertSource", "validTo", "state")
    } == {
        "type": "Alert",
        "category": "traffic",
        "subCategory": "trafficJam",
        "severity": "high",
        "alertSource": "urn:ngsi-ld:Camera:c0",
        "validTo": None,
        "state": "open",
    }
    assert alert["location"] == {"type": "Point", "coordinates": [106.6, 11.0]}
    assert alert["id"] == f"urn:ngsi-ld:Alert:{alert['alertId']}"
    cleared = client.get("/api/alerts", params={"state": "cleared"}).json()["items"]
    assert [a["alertSource"] for a in cleared] == ["urn:ngsi-ld:Camera:c1"]
    assert cleared[0]["validTo"] is not None and cleared[0]["data"]["clearReason"] == "condition_ended"
    in_d1 = client.get("/api/alerts", params={"state": "all", "area": "D1"}).json()["items"]
    assert [a["areaCode"] for a in in_d1] == ["W1"]
    assert client.get("/api/alerts", params={"severity": "low"}).json()["total"] == 0
    assert client.get(f"/api/alerts/{alert['alertId']}").json() == alert
    assert client.get("/api/alerts/999").status_code == 404
    assert client.get("/api/rules/busy").json()["open_alerts"] == 1
    assert client.get("/api/alerts", params={"state": "maybe"}).status_code == 422


def test_incident_from_an_alert_through_its_lifecycle(client: TestClient, setup: Setup) -> None:
    client.post("/api/rules", json=RULE)
    setup.occupancy(client, 90)
    alert_id = client.get("/api/alerts").json()["items"][0]["alertId"]
    incident = client.post(f"/api/alerts/{alert_id}/incident", json={}).json()
    assert (incident["state"], incident["area_code"], incident["allowed_transitions"]) == (
        "new",
        "W1",
        ["acknowledged"],
    )
    number = incident["id"]
    illegal = client.post(f"/api/incidents/{number}/transitions", json={"to": "closed"})
    assert illegal.status_code == 409
    assert {k: illegal.json()["detail"][k] for k in ("from", "to", "allowed")} == {
        "from": "new",
        "to": "closed",
        "allowed": ["acknowledged"],
    }
    unknown = client.post(f"/api/incidents/{number}/transitions", json={"to": "forgotten"})
    assert (unknown.status_code, unknown.json()["detail"][0]["loc"]) == (422, ["body", "to"])
    assert client.post(f"/api/incidents/{number}/transitions", json={"to": "acknowledged"}).status_code == 200
    no_agency = client.post(f"/api/incidents/{number}/transitions", json={"to": "assigned"})
    assert (no_agency.status_code, fields(no_agency)) == (422, {"agency"})
    assigned = client.post(
        f"/api/incidents/{number}/transitions",
        json={"to": "assigned", "agency": "CSGT Thủ Dầu Một"},
    )
    assert (assigned.status_code, assigned.json()["agency"]) == (200, "CSGT Thủ Dầu Một")
    history = client.get(f"/api/incidents/{number}/history").json()
    assert [(h["kind"], h["to_state"]) for h in history] == [
        ("created", "new"),
        ("alert", None),
        ("transition", "acknowledged"),
        ("transition", "assigned"),
    ]
    assert {h["actor"] for h in history} == {"truc-ban-1"}
    assert client.post("/api/incidents/999/transitions", json={"to": "acknowledged"}).status_code == 404
    map_ = client.get("/api/incidents/map").json()
    assert [(f["id"], f["geometry"]["coordinates"]) for f in map_["features"]] == [(number, [106.6, 11.0])]


def test_incidents_by_hand_filters_and_comments(client: TestClient) -> None:
    new = {
        "title": "Ngập sâu đường Yersin",
        "severity": "critical",
        "category": "naturalDisaster",
        "sub_category": "flood",
        "location": {"type": "Point", "coordinates": [106.8, 11.0]},
    }
    created = client.post("/api/incidents", json=new)
    assert (created.status_code, created.json()["area_code"]) == (201, "W2")
    client.post("/api/incidents", json={"title": "Đèn tín hiệu hỏng", "category": "traffic"})
    bad = client.post("/api/incidents", json={**new, "category": "weatherish", "sub_category": "puddle"})
    assert (bad.status_code, {tuple(e["loc"]) for e in bad.json()["detail"]}) == (
        422,
        {("body", "category"), ("body", "sub_category")},
    )
    assert client.get("/api/incidents").json()["total"] == 2
    critical = client.get("/api/incidents", params={"severity": ["critical", "high"]}).json()
    assert [i["title"] for i in critical["items"]] == ["Ngập sâu đường Yersin"]
    assert client.get("/api/incidents", params={"area": "W2", "state": "new"}).json()["total"] == 1
    assert client.get("/api/incidents", params={"area": "D1"}).json()["total"] == 0
    number = created.json()["id"]
    comment = client.post(f"/api/incidents/{number}/comments", json={"text": "Đã điều xe hút nước"})
    assert (comment.status_code, comment.json()["actor"]) == (201, "truc-ban-1")
    assert [c["text"] for c in client.get(f"/api/incidents/{number}/comments").json()] == [
        "Đã điều xe hút nước"
    ]
    assert fields(client.post(f"/api/incidents/{number}/comments", json={"text": ""})) == {"text"}
    assert client.get("/api/incidents/999").status_code == 404


def test_attachments(client: TestClient) -> None:
    number = client.post("/api/incidents", json={"title": "Cây đổ", "category": "traffic"}).json()["id"]
    url = f"/api/incidents/{number}/attachments"
    uploaded = client.post(url, files={"file": ("../Ảnh cây đổ.jpg", PNG, "image/jpeg")})
    assert uploaded.status_code == 201
    body = uploaded.json()
    assert (body["name"], body["content_type"], body["size"], body["actor"]) == (
        "Ảnh cây đổ.jpg",
        "image/png",
        len(PNG),
        "truc-ban-1",
    )
    assert [a["id"] for a in client.get(url).json()] == [body["id"]]
    download = client.get(f"{url}/{body['id']}")
    assert (download.status_code, download.content, download.headers["content-type"]) == (
        200,
        PNG,
        "image/png",
    )
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    script = client.post(url, files={"file": ("a.png", b"<html><script></script></html>", "image/png")})
    assert (script.status_code, fields(script)) == (415, {"file"})
    large = client.post(url, files={"file": ("big.png", PNG + b"\x00" * 5000, "image/png")})
    assert (large.status_code, fields(large)) == (413, {"file"})
    assert fields(client.post(url, files={"actor": (None, "Chi")})) == {"file"}
    named = client.post(url, files={"file": ("a.png", PNG, "image/png")}, data={"actor": "Chi"})
    assert (named.status_code, fields(named)) == (422, {"actor"})
    assert fields(client.post(url, data={"actor": "Chi"})) == {"content-type"}
    assert client.post(url, json={"file": "x"}).status_code == 415
    assert (
        client.post("/api/incidents/999/attachments", files={"file": ("a.png", PNG, "image/png")}).status_code
        == 404
    )
    assert client.get(f"{url}/999").status_code == 404
    history = client.get(f"/api/incidents/{number}/history").json()
    assert [h["kind"] for h in history] == ["created", "attachment"]


def test_every_change_is_audited_under_the_callers_name(client: TestClient, setup: Setup) -> None:
    client.post("/api/rules", json=RULE)
    client.put("/api/rules/busy", json={**RULE, "value": 75})
    client.delete("/api/rules/busy")
    rules = setup.audit_log(object="rule:busy")
    assert [(e["action"], e["actor"]) for e in rules] == [
        ("rule.create", "truc-ban-1"),
        ("rule.update", "truc-ban-1"),
        ("rule.delete", "truc-ban-1"),
    ]
    assert [(e["before"] or {}).get("value") for e in rules] == [None, 70, 75]
    assert [(e["after"] or {}).get("value") for e in rules] == [70, 75, None]

    client.post("/api/rules", json=RULE)
    setup.occupancy(client, 90)
    alert_id = client.get("/api/alerts").json()["items"][0]["alertId"]
    setup.caller = Principal("giam-sat", Role.ADMIN)
    number = client.post(f"/api/alerts/{alert_id}/incident", json={}).json()["id"]
    client.post(f"/api/incidents/{number}/transitions", json={"to": "acknowledged", "note": "Đã nhận"})
    assert client.post(f"/api/incidents/{number}/transitions", json={"to": "closed"}).status_code == 409
    client.post(f"/api/incidents/{number}/comments", json={"text": "Cử tổ tuần tra"})
    client.post(f"/api/incidents/{number}/attachments", files={"file": ("hiện trường.png", PNG, "image/png")})

    link = setup.audit_log(object=f"alert:{alert_id}")
    assert [(e["action"], e["actor"], e["before"], e["after"]) for e in link] == [
        ("alert.link", "giam-sat", {"incident_id": None}, {"incident_id": number}),
    ]
    entries = setup.audit_log(object=f"incident:{number}")
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("incident.create", "giam-sat"),
        ("incident.transition", "giam-sat"),  # the refused move left nothing
        ("incident.comment", "giam-sat"),
        ("incident.attachment", "giam-sat"),
    ]
    created, moved, commented, attached = entries
    assert (created["before"], created["after"]["state"]) == (None, "new")
    assert (moved["before"]["state"], moved["after"]["state"]) == ("new", "acknowledged")
    assert commented["after"]["text"] == "Cử tổ tuần tra"
    assert (attached["after"]["name"], attached["after"]["sha256"]) == (
        "hiện trường.png",
        hashlib.sha256(PNG).hexdigest(),
    )


def test_a_name_sent_as_actor_is_refused(client: TestClient, setup: Setup) -> None:
    number = client.post("/api/incidents", json={"title": "Cây đổ", "category": "traffic"}).json()["id"]
    forged = {"actor": "Giám đốc"}
    for path, body in (
        ("/api/incidents", {"title": "Cây đổ", "category": "traffic"}),
        (f"/api/incidents/{number}/transitions", {"to": "acknowledged"}),
        (f"/api/incidents/{number}/comments", {"text": "Xong"}),
        ("/api/alerts/1/incident", {}),
    ):
        refused = client.post(path, json={**body, **forged})
        assert (refused.status_code, fields(refused)) == (422, {"actor"}), path
    history = client.get(f"/api/incidents/{number}/history").json()
    assert [(h["kind"], h["actor"]) for h in history] == [("created", "truc-ban-1")]
    assert client.get("/api/incidents").json()["total"] == 1


def test_openapi_describes_the_operations_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/rules", "/api/alerts", "/api/incidents", "/api/incidents/{incident_id}/transitions"} <= set(
        paths
    )
