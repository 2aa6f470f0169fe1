"""`--role rules`: a separate process evaluates the rules on what recorders store, and its alerts reach
the API servers' live feeds."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from cityops.core.kernel import Kernel

from ..conftest import FeedListener, Until
from .conftest import NatsNode, Start, wait_until_running

Listen = Callable[[str, dict[str, str], Until], FeedListener]
RULES = """
[[rules]]
id = "busy"
kind = "threshold"
title = { vi = "Đông xe", en = "Busy", ja = "混雑" }
category = "traffic"
entity_type = "Camera"
metric = "intensity"
op = ">"
value = 50
"""


def test_a_rules_process_raises_alerts_seen_on_the_api_feed(
    kernel: Kernel,
    nats_node: NatsNode,
    start_cityops: Start,
    auth_headers: dict[str, str],
    feed_listener: Listen,
    tmp_path: Path,
) -> None:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(RULES, encoding="utf-8")
    rules_setting = orjson.dumps({"file": str(rules_file)}).decode()
    processes = [
        start_cityops("api", [nats_node], wait=False),
        start_cityops("recorder", [nats_node], wait=False),
        start_cityops("rules", [nats_node], wait=False, rules=rules_setting),
    ]
    for process in processes:
        wait_until_running(process)
    api = processes[0]

    def busy_alert(name: str, data: dict[str, Any]) -> bool:
        return name == "alert" and data.get("rule_id") == "busy"

    feed = feed_listener(api.base, auth_headers, busy_alert)
    point = {
        "entity": "urn:ngsi-ld:Camera:tdm-001",
        "metric": "intensity",
        "time": int(time.time() * 1000),
        "value": 99,
    }
    response = httpx.post(f"{api.base}/api/ingest", json={"points": [point]}, headers=auth_headers)
    assert response.status_code == 202, response.text
    assert feed.done.wait(30), f"no alert on the API server's feed: {processes[2].log.read_text()[-2000:]}"
    [alert] = [data for name, data in feed.events if busy_alert(name, data)]
    assert alert["source"] == "urn:ngsi-ld:Camera:tdm-001" and alert["value"] == 99
