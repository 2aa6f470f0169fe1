"""The live feed over a real HTTP server: a posted batch reaches an SSE client."""

from __future__ import annotations

import threading

import httpx
import orjson


def test_posted_batch_arrives_on_the_live_feed(live_server: str, auth_headers: dict[str, str]) -> None:
    events: list[tuple[str, dict[str, object]]] = []
    hello = threading.Event()

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
                    events.append((name, orjson.loads(line[5:])))
                    if name == "hello":
                        hello.set()
                    if name == "observations":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert hello.wait(5)
    point = {
        "entity": "urn:ngsi-ld:Camera:tdm-001",
        "metric": "intensity",
        "time": "2026-11-23T08:00:00+07:00",
        "value": 3,
    }
    response = httpx.post(f"{live_server}/api/ingest", json={"points": [point]}, headers=auth_headers)
    assert response.status_code == 202
    listener.join(5)
    assert events[0] == ("hello", {"simulated": False})
    name, data = events[-1]
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
