"""`POST /api/ingest`: what is accepted, what is refused and why, and that refusals store nothing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityops.core.kernel import Kernel
from cityops.core.schema import batches, latest, observations, rollups

CAMERA = "urn:ngsi-ld:Camera:tdm-001"
AP = "urn:ngsi-ld:AccessPoint:ap-00-0"


def point(**overrides: Any) -> dict[str, Any]:
    base = {"entity": CAMERA, "metric": "intensity", "time": "2026-11-23T08:00:00+07:00", "value": 42}
    base.update(overrides)
    return base


def count(kernel: Kernel, table: Any) -> int:
    with kernel.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_json_batch_is_stored_with_rollups(client: TestClient, kernel: Kernel) -> None:
    points = [point(time=f"2026-11-23T08:00:{s:02d}+07:00", value=s) for s in range(10)]
    points.append(point(entity=AP, metric="activeUsers", time="2026-11-23T01:00:00Z", value=7))
    response = client.post("/api/ingest", json={"points": points})
    assert response.status_code == 202, response.text
    assert response.json()["points"] == 11
    assert count(kernel, observations) == 11
    with kernel.engine.connect() as conn:
        minute = conn.execute(select(rollups).where(rollups.c.grain == "m", rollups.c.count == 10)).one()
    assert minute.sum == sum(range(10))
    assert (minute.min, minute.max, minute.last) == (0, 9, 9)
    assert count(kernel, latest) == 2


def test_ndjson_batch(client: TestClient, kernel: Kernel) -> None:
    body = b"\n".join(orjson.dumps(point(time=1_790_000_000_000 + i, value=i)) for i in range(5)) + b"\n"
    response = client.post("/api/ingest", content=body, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 202, response.text
    assert count(kernel, observations) == 5


def post_and_expect(client: TestClient, body: Any, status: int, field: str, **kwargs: Any) -> dict[str, Any]:
    response = client.post("/api/ingest", **({"json": body} if body is not None else kwargs))
    assert response.status_code == status, response.text
    detail: dict[str, Any] = response.json()["detail"][0]
    assert detail["field"] == field, detail
    return detail


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        (point(value="42"), "value", "number"),
        (point(value=True), "value", "number"),
        (point(entity="urn:ngsi-ld:Camera:nope"), "entity", "unknown entity"),
        (point(metric="rainfall"), "metric", "unknown metric"),
        (point(time="2026-11-23T08:00:00"), "time", "time zone"),
        (point(time="yesterday"), "time", "ISO-8601"),
        (point(time="2999-01-01T00:00:00Z"), "time", "future"),
        ({"entity": CAMERA, "metric": "intensity", "value": 1}, "time", "required"),
        ({**point(), "colour": "red"}, "colour", "not a known field"),
        ([1, 2], "point", "object"),
    ],
)
def test_bad_point_rejects_whole_batch(
    client: TestClient, kernel: Kernel, bad: Any, field: str, words: str
) -> None:
    detail = post_and_expect(client, {"points": [point(), bad]}, 422, field)
    assert detail["index"] == 1
    assert words in detail["msg"]
    assert count(kernel, observations) == 0
    assert count(kernel, batches) == 0


def test_ndjson_error_names_the_line(client: TestClient, kernel: Kernel) -> None:
    body = orjson.dumps(point()) + b"\n\n" + orjson.dumps(point(value="x")) + b"\n"
    detail = post_and_expect(
        client, None, 422, "value", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert detail["line"] == 3
    body = orjson.dumps(point()) + b"\n{not json\n"
    detail = post_and_expect(
        client, None, 422, "line", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert detail["line"] == 2
    assert count(kernel, observations) == 0


def test_malformed_json_and_wrong_content_type(client: TestClient) -> None:
    post_and_expect(client, None, 422, "body", content=b"{", headers={"content-type": "application/json"})
    post_and_expect(client, None, 415, "content-type", content=b"x", headers={"content-type": "text/plain"})
    post_and_expect(client, {"points": []}, 422, "points")
    post_and_expect(client, {"data": []}, 422, "points")


def test_payload_over_limit_is_refused(client: TestClient, kernel: Kernel) -> None:
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    body = orjson.dumps({"points": [point()], "pad": "x" * limit})
    declared = client.post("/api/ingest", content=body, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    detail = post_and_expect(
        client, None, 413, "body", content=iter([body]), headers={"content-type": "application/json"}
    )
    assert str(limit) in detail["msg"]
    assert count(kernel, observations) == 0


def test_resent_points_are_ignored_and_do_not_double_rollups(client: TestClient, kernel: Kernel) -> None:
    first = [point(time=1_790_000_000_000 + i, value=1) for i in range(3)]
    assert client.post("/api/ingest", json=first).status_code == 202
    again = [*first, point(time=1_790_000_000_000 + 3, value=1), first[0]]
    response = client.post("/api/ingest", json=again)
    assert response.json() == {"batch_id": 2, "points": 1, "duplicates": 4}
    with kernel.engine.connect() as conn:
        total = conn.execute(select(func.sum(rollups.c.count)).where(rollups.c.grain == "d")).scalar_one()
    assert total == 4
    assert count(kernel, observations) == 4


def test_data_already_stored_survives_a_rejected_batch(client: TestClient, kernel: Kernel) -> None:
    assert client.post("/api/ingest", json=[point()]).status_code == 202
    assert (
        client.post("/api/ingest", json=[point(time=1_790_000_000_000), point(value=None)]).status_code == 422
    )
    assert count(kernel, observations) == 1
