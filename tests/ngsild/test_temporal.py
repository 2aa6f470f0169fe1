"""The temporal API answered from the observation store (raw points) and its rollups (aggregation)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from tests.ngsild.test_entities import BASE, ERRORS, access_point

from cityops.api.ngsild.representation import iso

URN = "urn:ngsi-ld:AccessPoint:hist-1"
MINUTE = 60_000
OFFSETS = (0, 1, 30, 61, 125)  # minutes after BASE_MS
VALUES = (10.0, 20.0, 30.0, 40.0, 50.0)
BASE_MS = (int(time.time() * 1000) - 86_400_000) // 7_200_000 * 7_200_000  # a 2-hour boundary, a day ago


@pytest.fixture
def history(client: TestClient) -> TestClient:
    assert client.post(f"{BASE}/entities", json=access_point("hist-1")).status_code == 201
    points = [
        {"entity": URN, "metric": "activeUsers", "time": BASE_MS + m * MINUTE, "value": v}
        for m, v in zip(OFFSETS, VALUES, strict=True)
    ]
    assert client.post("/api/ingest", json={"points": points}).status_code == 202
    return client


def at(minutes: int) -> str:
    return iso(BASE_MS + minutes * MINUTE)


def test_instances_by_timerel_and_last_n(history: TestClient) -> None:
    def values(**params: object) -> list[float]:
        answer = history.get(f"{BASE}/temporal/entities/{URN}", params={"attrs": "activeUsers", **params})
        assert answer.status_code == 200, answer.text
        return [instance["value"] for instance in answer.json().get("activeUsers", [])]

    assert values() == list(VALUES)
    assert values(timerel="between", timeAt=at(1), endTimeAt=at(61)) == [20.0, 30.0]
    assert values(timerel="before", timeAt=at(1)) == [10.0]
    assert values(timerel="after", timeAt=at(30)) == [40.0, 50.0]
    assert values(lastN=2) == [40.0, 50.0]
    one = history.get(f"{BASE}/temporal/entities/{URN}", params={"lastN": 1}).json()["activeUsers"][0]
    assert one == {"type": "Property", "value": 50.0, "observedAt": at(125)}
    simplified = history.get(
        f"{BASE}/temporal/entities/{URN}", params={"options": "temporalValues", "lastN": 2}
    )
    assert simplified.json()["activeUsers"] == {
        "type": "Property",
        "values": [[40.0, at(61)], [50.0, at(125)]],
    }


def test_aggregation_from_the_rollups(history: TestClient) -> None:
    def aggregate(
        period: str | None, methods: str = "totalCount,sum,avg,min,max"
    ) -> dict[str, list[list[object]]]:
        params = {"options": "aggregatedValues", "aggrMethods": methods}
        if period:
            params["aggrPeriodDuration"] = period
        answer = history.get(f"{BASE}/temporal/entities/{URN}", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["activeUsers"]

    hourly = aggregate("PT1H")
    assert hourly["totalCount"] == [[3, at(0), at(60)], [1, at(60), at(120)], [1, at(120), at(180)]]
    assert [row[0] for row in hourly["sum"]] == [60.0, 40.0, 50.0]
    assert [row[0] for row in hourly["avg"]] == [20.0, 40.0, 50.0]
    assert [row[0] for row in hourly["min"]] == [10.0, 40.0, 50.0]
    two_hours = aggregate("PT2H", "max,totalCount")
    assert two_hours == {
        "type": "Property",
        "max": [[40.0, at(0), at(120)], [50.0, at(120), at(240)]],
        "totalCount": [[4, at(0), at(120)], [1, at(120), at(240)]],
    }
    quarter = aggregate("PT15M", "totalCount")["totalCount"]
    assert [row[0] for row in quarter] == [2, 1, 1, 1]
    whole = aggregate(None, "totalCount,avg")
    assert whole["totalCount"][0][0] == 5 and whole["avg"][0][0] == 30.0
    daily = aggregate("P1D", "totalCount")["totalCount"]
    assert sum(row[0] for row in daily) == 5


@pytest.mark.parametrize(
    ("params", "status", "kind"),
    [
        (
            {"options": "aggregatedValues", "aggrMethods": "stddev", "aggrPeriodDuration": "PT1H"},
            422,
            "OperationNotSupported",
        ),
        (
            {"options": "aggregatedValues", "aggrMethods": "sum", "aggrPeriodDuration": "P1M"},
            422,
            "OperationNotSupported",
        ),
        (
            {"options": "aggregatedValues", "aggrMethods": "sum", "aggrPeriodDuration": "PT30S"},
            400,
            "BadRequestData",
        ),
        ({"options": "aggregatedValues"}, 400, "BadRequestData"),
        ({"timerel": "between", "timeAt": "2026-01-01T00:00:00Z"}, 400, "BadRequestData"),
        ({"timerel": "before"}, 400, "BadRequestData"),
        ({"timerel": "after", "timeAt": "yesterday"}, 400, "BadRequestData"),
    ],
)
def test_bad_temporal_requests(history: TestClient, params: dict[str, str], status: int, kind: str) -> None:
    answer = history.get(f"{BASE}/temporal/entities/{URN}", params=params)
    assert (answer.status_code, answer.json()["type"]) == (status, ERRORS + kind)


def test_temporal_query_over_entities(history: TestClient) -> None:
    history.post(f"{BASE}/entities", json=access_point("hist-2"))
    answer = history.get(
        f"{BASE}/temporal/entities",
        params={"type": "AccessPoint", "idPattern": "hist-", "lastN": 1, "count": "true"},
    )
    assert answer.status_code == 200
    assert answer.headers["NGSILD-Results-Count"] == "2"
    by_id = {entity["id"]: entity for entity in answer.json()}
    assert by_id[URN]["activeUsers"][0]["value"] == 50.0
    assert "activeUsers" not in by_id["urn:ngsi-ld:AccessPoint:hist-2"]
