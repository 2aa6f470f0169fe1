"""Alerts and incidents reach the live feed: a rule created through the API, a posted batch that crosses
it, and the SSE client sees `alert` and `incident` events, then the `alert` that clears it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

CAMERA = "urn:ngsi-ld:Camera:tdm-001"


def test_alert_and_incident_events_on_the_live_feed(
    live_server: str, auth_headers: dict[str, str], feed_listener: Callable[..., Any]
) -> None:
    rule = {
        "id": "busy-tdm",
        "kind": "threshold",
        "title": {"vi": "Đông xe", "en": "Busy", "ja": "混雑"},
        "severity": "high",
        "category": "traffic",
        "sub_category": "trafficJam",
        "entity_type": "Camera",
        "entity": CAMERA,
        "metric": "intensity",
        "op": ">",
        "value": 50,
        "opens_incident": True,
    }
    assert httpx.post(f"{live_server}/api/rules", json=rule, headers=auth_headers).status_code == 201
    feed = feed_listener(live_server, auth_headers, lambda name, data: name == "alert" and "reason" in data)
    for minute, value in ((0, 80), (1, 10)):
        point = {
            "entity": CAMERA,
            "metric": "intensity",
            "time": f"2026-11-23T08:0{minute}:00+07:00",
            "value": value,
        }
        assert (
            httpx.post(
                f"{live_server}/api/ingest", json={"points": [point]}, headers=auth_headers
            ).status_code
            == 202
        )
    assert feed.done.wait(5)
    alerts = [data for name, data in feed.events if name == "alert"]
    incidents = [data for name, data in feed.events if name == "incident"]
    assert [(a["rule_id"], a["source"], a.get("reason")) for a in alerts] == [
        ("busy-tdm", CAMERA, None),
        ("busy-tdm", CAMERA, "condition_ended"),
    ]
    assert alerts[0]["severity"] == "high" and alerts[0]["lon"] is not None
    assert [i["change"] for i in incidents] == ["created", "alert_cleared"]
    listed = httpx.get(f"{live_server}/api/incidents", headers=auth_headers).json()
    assert [i["id"] for i in listed["items"]] == [incidents[0]["incident_id"]]
