"""The live feed over a real HTTP server: a posted batch reaches an SSE client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


def test_posted_batch_arrives_on_the_live_feed(
    live_server: str, auth_headers: dict[str, str], feed_listener: Callable[..., Any]
) -> None:
    feed = feed_listener(live_server, auth_headers, lambda name, _data: name == "observations")
    point = {
        "entity": "urn:ngsi-ld:Camera:tdm-001",
        "metric": "intensity",
        "time": "2026-11-23T08:00:00+07:00",
        "value": 3,
    }
    response = httpx.post(f"{live_server}/api/ingest", json={"points": [point]}, headers=auth_headers)
    assert response.status_code == 202
    assert feed.done.wait(5)
    assert feed.events[0] == ("hello", {"simulated": False})
    name, data = feed.events[-1]
    assert name == "observations"
    assert data["batch_id"] == response.json()["batch_id"]
    assert data["series"] == [
        {
            "entity": "urn:ngsi-ld:Camera:tdm-001",
            "type": "Camera",
            "name": "Ngã tư Chợ Đình, Thủ Dầu Một",
            "metric": "intensity",
            "ts": "2026-11-23T01:00:00Z",
            "value": 3.0,
        }
    ]
