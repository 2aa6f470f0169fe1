"""Rules from the configuration file are audited as actor `config`: added, changed and dropped at start-up,
and left alone (no entry) when the file did not change them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.kernel import Kernel
from cityops.core.rules.definitions import RuleSettings

RULE = """
[[rules]]
id = "{id}"
kind = "threshold"
title = {{ vi = "Đông xe", en = "Busy", ja = "混雑" }}
severity = "medium"
category = "traffic"
entity_type = "Camera"
metric = "intensity"
op = ">"
value = {value}
"""


def start(kernel: Kernel, settings: Settings, auth_headers: dict[str, str]) -> list[dict[str, Any]]:
    """Start the app once (the rules file is applied at start-up); the audit log of rules, oldest first."""
    with TestClient(create_app(kernel, settings), headers=auth_headers) as client:
        answer = client.get("/api/audit", params={"object_prefix": "rule:", "limit": 100})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
    return items[::-1]


def test_rules_from_the_file_are_audited_as_config(
    kernel: Kernel, database_url: str, tmp_path: Path, auth_headers: dict[str, str]
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        RULE.format(id="dong-xe", value=50) + RULE.format(id="ket-xe", value=90), encoding="utf-8"
    )
    settings = Settings(database_url=database_url, rules=RuleSettings(file=path))

    first = start(kernel, settings, auth_headers)
    assert [(e["actor"], e["action"], e["object"]) for e in first] == [
        ("config", "rule.create", "rule:dong-xe"),
        ("config", "rule.create", "rule:ket-xe"),
    ]
    assert first[0]["before"] is None and first[0]["after"]["value"] == 50
    assert first[0]["after"]["source"] == "config"

    assert start(kernel, settings, auth_headers) == first  # same file: nothing new

    path.write_text(RULE.format(id="dong-xe", value=60), encoding="utf-8")
    later = start(kernel, settings, auth_headers)[len(first) :]
    assert [(e["actor"], e["action"], e["object"]) for e in later] == [
        ("config", "rule.delete", "rule:ket-xe"),
        ("config", "rule.update", "rule:dong-xe"),
    ]
    assert later[0]["after"] is None and later[0]["before"]["value"] == 90
    assert (later[1]["before"]["value"], later[1]["after"]["value"]) == (50, 60)
