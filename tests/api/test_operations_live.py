"""Alerts and incidents reach the live feed: a rule created through the API, a posted batch that crosses
it, and the SSE client sees `alert` and `incident` events, then the `alert` that clears it."""

from __future__ import annotations

import threading

import httpx
import orjson

CAMERA = "urn:ngsi-ld:Camera:tdm-001"


def test_alert_and_incident_events_on_the_live_feed(live_server: str, auth_headers: dict[str, str]) -> None:
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
    events: list[tuple[str, dict[str, object]]] = []
    hello = threading.Event()
    cleared = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=live_server, timeout=10, headers=auth_headers) as client,
            client.stream("GET", "/api/live") as stream,
        ):
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    data = orjson.loads(line[5:])
                    events.append((name, data))
                    if name == "hello":
                        hello.set()
                    if name == "alert" and "reason" in data:
                        cleared.set()
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert hello.wait(5)
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
    assert cleared.wait(5)
    listener.join(5)
    alerts = [data for name, data in events if name == "alert"]
    incidents = [data for name, data in events if name == "incident"]
    assert [(a["rule_id"], a["source"], a.get("reason")) for a in alerts] == [
        ("busy-tdm", CAMERA, None),
        ("busy-tdm", CAMERA, "condition_ended"),
    ]
    assert alerts[0]["severity"] == "high" and alerts[0]["lon"] is not None
    assert [i["change"] for i in incidents] == ["created", "alert_cleared"]
    listed = httpx.get(f"{live_server}/api/incidents", headers=auth_headers).json()
    assert [i["id"] for i in listed["items"]] == [incidents[0]["incident_id"]]
