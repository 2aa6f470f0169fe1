"""`GET /api/series`: one entity's rolled-up metrics for charts."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from cityops.core.kernel import Kernel

CAMERA = "urn:ngsi-ld:Camera:series-1"
MINUTE = 60_000
T0 = 1_790_000_000_000 // MINUTE * MINUTE


def register(client: TestClient) -> None:
    body = {
        "id": CAMERA,
        "name": "Cổng Bình Dương",
        "location": {"type": "Point", "coordinates": [106.66, 10.98]},
    }
    assert client.post("/api/entities", json=body).status_code == 201


def test_minute_buckets_hold_count_mean_min_max(client: TestClient, kernel: Kernel) -> None:
    register(client)
    values = [(T0 + 5_000, 10.0), (T0 + 40_000, 20.0), (T0 + MINUTE + 1_000, 7.0)]
    points = [{"entity": CAMERA, "metric": "intensity", "time": ts, "value": v} for ts, v in values]
    assert client.post("/api/ingest", json={"points": points}).status_code == 202
    answer = client.get(
        "/api/series",
        params={"entity": CAMERA, "metric": ["intensity", "occupancy"], "start": T0, "end": T0 + 3 * MINUTE},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    first, second = body["series"]["intensity"]
    assert (first["ts"], first["count"], first["mean"], first["min"], first["max"]) == (
        T0,
        2,
        15.0,
        10.0,
        20.0,
    )
    assert (second["ts"], second["count"], second["last"]) == (T0 + MINUTE, 1, 7.0)
    assert body["series"]["occupancy"] == []


def test_bad_requests_name_the_field(client: TestClient) -> None:
    register(client)
    unknown = client.get("/api/series", params={"entity": "urn:ngsi-ld:Camera:nope", "metric": "intensity"})
    assert unknown.status_code == 404 and unknown.json()["detail"]["field"] == "entity"
    metric = client.get("/api/series", params={"entity": CAMERA, "metric": "users"})
    assert metric.status_code == 422 and metric.json()["detail"]["field"] == "metric"
    backwards = client.get(
        "/api/series", params={"entity": CAMERA, "metric": "intensity", "start": 10, "end": 5}
    )
    assert backwards.status_code == 422 and backwards.json()["detail"]["field"] == "start"
    too_long = client.get(
        "/api/series", params={"entity": CAMERA, "metric": "intensity", "start": 0, "end": 10_000 * MINUTE}
    )
    assert too_long.status_code == 422
    missing = client.get("/api/series", params={"entity": CAMERA})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["query", "metric"]


def test_sums_that_would_overflow_are_refused_and_series_stay_finite(client: TestClient) -> None:
    # Two finite values whose sum is not (1.7e308 + 1.7e308 = inf): the rollup's sum and mean would
    # become Infinity (invalid JSON) or null. The batch is refused with the field named, nothing stored.
    register(client)
    huge = 1.7e308
    points = [
        {"entity": CAMERA, "metric": "intensity", "time": T0 + s * 1000, "value": v}
        for s, v in ((1, 5.0), (2, huge), (3, huge))
    ]
    refused = client.post("/api/ingest", json={"points": points})
    assert refused.status_code == 422, refused.text
    errors = refused.json()["detail"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, "value"), (2, "value")]
    assert "10^15" in errors[0]["msg"]
    # The largest accepted magnitude, many times over in one bucket, sums finitely.
    edge = [
        {"entity": CAMERA, "metric": "intensity", "time": T0 + s * 10, "value": 1e15 * (-1) ** s}
        for s in range(1, 1001)
    ]
    assert client.post("/api/ingest", json={"points": edge}).status_code == 202
    answer = client.get(
        "/api/series", params={"entity": CAMERA, "metric": "intensity", "start": T0, "end": T0 + MINUTE}
    )
    assert answer.status_code == 200, answer.text
    body = orjson.loads(answer.content)  # strict JSON: Infinity or NaN would not parse
    (bucket,) = body["series"]["intensity"]
    assert bucket["count"] == 1000
    assert (bucket["min"], bucket["max"], bucket["sum"], bucket["mean"]) == (-1e15, 1e15, 0.0, 0.0)
