"""GET /api/alerts/summary on the assembled app: open alerts counted by rule as the store holds them (a
rule with hundreds of alerts is one entry), most severe rule first, with its newest alerts; the same
filters as GET /api/alerts; 422 naming the parameter on bad input; readers as for the alerts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.core.access.accounts import Role
from cityops.core.kernel import Kernel
from cityops.core.rules.alerts import AlertClosing, AlertOpening, write_changes
from cityops.core.rules.definitions import Rule, parse_rule
from cityops.core.rules.scope import EntityInfo
from cityops.core.schema import areas
from cityops.core.schema_operations import alerts

BASE_MS = 1_790_000_000_000
HeadersFor = Callable[..., dict[str, str]]


def rule(rule_id: str, severity: str, category: str = "traffic") -> Rule:
    return parse_rule(
        {
            "id": rule_id,
            "kind": "threshold",
            "title": {"vi": f"Cảnh báo {rule_id}", "en": f"Alert {rule_id}", "ja": f"警報 {rule_id}"},
            "severity": severity,
            "category": category,
            "entity_type": "Camera",
            "metric": "occupancy",
            "op": ">",
            "value": 1,
        }
    )


def place(code: str | None) -> EntityInfo | None:
    if code is None:
        return None
    return EntityInfo(0, "urn:x", "Camera", "x", 106.65, 11.0, code, None, frozenset({code}))


def raise_alerts(kernel: Kernel, which: Rule, count: int, start_ms: int, area: str | None = None) -> None:
    """`count` alerts of one rule through the kernel's writer, one second apart."""
    for i in range(count):
        opening = AlertOpening(
            which, f"urn:ngsi-ld:Dossier:{which.id}-{i}", f"Hồ sơ {i}", place(area), None, None, {"vi": "x"}
        )
        write_changes(kernel.engine, [opening], start_ms + i * 1000)


def stored_open_counts(kernel: Kernel) -> Counter[str]:
    with kernel.engine.connect() as conn:
        rows = conn.execute(select(alerts.c.rule_id).where(alerts.c.cleared_ms.is_(None))).all()
    return Counter(row.rule_id for row in rows)


def a_ward_and_its_parent(kernel: Kernel) -> tuple[str, str]:
    with kernel.engine.connect() as conn:
        row = conn.execute(
            select(areas.c.code, areas.c.parent_code).where(areas.c.parent_code.is_not(None)).limit(1)
        ).one()
    return row.code, row.parent_code


def summary(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/alerts/summary", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_open_alerts_are_counted_by_rule_as_stored(client: TestClient, kernel: Kernel) -> None:
    late, camera, jam = (
        rule("late", "high", "publicService"),
        rule("camera", "critical"),
        rule("jam", "medium"),
    )
    raise_alerts(kernel, late, 30, BASE_MS)
    raise_alerts(kernel, camera, 2, BASE_MS + 5_000)
    raise_alerts(kernel, jam, 5, BASE_MS + 100_000)
    write_changes(
        kernel.engine, [AlertClosing("jam", "urn:ngsi-ld:Dossier:jam-4", "condition_ended")], BASE_MS
    )

    body = summary(client)
    by_rule = {entry["ruleId"]: entry for entry in body["rules"]}
    assert {rule_id: entry["count"] for rule_id, entry in by_rule.items()} == dict(stored_open_counts(kernel))
    assert (by_rule["late"]["count"], by_rule["camera"]["count"], by_rule["jam"]["count"]) == (30, 2, 4)
    assert body["total"] == sum(stored_open_counts(kernel).values())
    assert body["total"] == client.get("/api/alerts", params={"limit": 1}).json()["total"]
    # Most severe first, whatever is newest.
    assert [entry["ruleId"] for entry in body["rules"]][:3] == ["camera", "late", "jam"]

    entry = by_rule["late"]
    assert entry["name"] == {"vi": "Cảnh báo late", "en": "Alert late", "ja": "警報 late"}
    assert (entry["severity"], entry["category"], entry["subCategory"]) == ("high", "publicService", None)
    assert [a["sourceName"] for a in entry["latest"]] == ["Hồ sơ 29", "Hồ sơ 28", "Hồ sơ 27"]
    assert entry["dateIssued"] == entry["latest"][0]["dateIssued"]
    members = client.get("/api/alerts", params={"state": "open", "rule": "late", "limit": 50}).json()
    assert members["total"] == 30 and len(members["items"]) == 30
    assert entry["dateIssued"] == max(a["dateIssued"] for a in members["items"])
    assert [a["sourceName"] for a in by_rule["jam"]["latest"]] == ["Hồ sơ 3", "Hồ sơ 2", "Hồ sơ 1"]
    assert len(summary(client, per_rule=50)["rules"][1]["latest"]) == 30


def test_the_summary_takes_the_filters_of_the_alert_list(client: TestClient, kernel: Kernel) -> None:
    ward, parent = a_ward_and_its_parent(kernel)
    raise_alerts(kernel, rule("late", "high", "publicService"), 6, BASE_MS, area=ward)
    raise_alerts(kernel, rule("jam", "medium"), 3, BASE_MS)
    write_changes(
        kernel.engine, [AlertClosing("jam", "urn:ngsi-ld:Dossier:jam-0", "condition_ended")], BASE_MS
    )

    def counts(**params: Any) -> dict[str, int]:
        return {
            e["ruleId"]: e["count"]
            for e in summary(client, **params)["rules"]
            if e["ruleId"] in ("late", "jam")
        }

    assert counts(severity="high") == {"late": 6}
    assert counts(category="traffic") == {"jam": 2}
    assert counts(area=parent) == counts(area=ward) == {"late": 6}
    assert counts(state="cleared") == {"jam": 1}
    assert counts(state="all") == {"late": 6, "jam": 3}
    assert counts(source="urn:ngsi-ld:Dossier:jam-1") == {"jam": 1}
    assert summary(client, severity="low", category="traffic") == {"total": 0, "rules": []}


def test_bad_parameters_get_422_naming_the_parameter(client: TestClient) -> None:
    for params, field in (
        ({"per_rule": 0}, "per_rule"),
        ({"per_rule": 51}, "per_rule"),
        ({"per_rule": "few"}, "per_rule"),
        ({"state": "maybe"}, "state"),
        ({"severity": "urgent"}, "severity"),
        ({"category": "weather-ish"}, "category"),
        ({"area": "x" * 33}, "area"),
    ):
        response = client.get("/api/alerts/summary", params=params)
        assert response.status_code == 422, params
        assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]
    too_long = client.get("/api/alerts", params={"rule": "r" * 65})
    assert (too_long.status_code, too_long.json()["detail"][0]["loc"]) == (422, ["query", "rule"])


def test_readers_as_for_the_alerts(client: TestClient, headers_for: HeadersFor) -> None:
    del client.headers["Authorization"]
    assert client.get("/api/alerts/summary").status_code == 401
    for role, status in ((Role.LEADER, 200), (Role.OPERATOR, 200), (Role.AGENCY_OFFICER, 403)):
        extra = {"agency_code": "police"} if role is Role.AGENCY_OFFICER else {}
        response = client.get("/api/alerts/summary", headers=headers_for(role, **extra))
        assert response.status_code == status, role
