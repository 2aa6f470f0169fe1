"""Every text field the API takes has a length cap (`maxLength` in the OpenAPI document, or a pattern that
bounds it, or an enum): each string property of every request body (JSON and forms), every string path,
query, header and cookie parameter, on the kernel's routes and every domain's. A whole body sent as one
string (a CSV, XLSX or NDJSON upload) is bounded by the route's body limit instead (docs/configuration.md,
request limits), and so is NGSI-LD's free-form JSON (the NGSI-LD layer checks its attributes itself)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

UNBOUNDED_FORMATS = ("binary", "date-time", "date")
# A whole request body sent as one string: a file, bounded by the route's body limit.
WHOLE_BODY_TYPES = ("text/csv", "application/csv", "application/x-ndjson", "application/ndjson")
WHOLE_BODY_TYPES += ("application/jsonl", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Where a cap makes no sense, with why (keep it short):
ALLOWED: dict[str, str] = {
    # The dossier import takes a JSON file as a whole string body too (an array, parsed by the importer).
    "POST /api/services/imports body[application/json]": "a whole file, bounded by the 512 MiB body limit",
}


def bounded_pattern(pattern: str) -> bool:
    """Whether a regular expression anchored at both ends repeats nothing without bound."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        return False
    bare = re.sub(r"\[(?:\\.|[^\]])*\]", "x", re.sub(r"\\.", "x", pattern))
    return not re.search(r"[*+]|\{\d*,\}", bare)


def uncapped(schema: Any, where: str, components: dict[str, Any], seen: frozenset[str]) -> list[str]:
    """Paths to every string in `schema` without maxLength (enums, bounded patterns and formats bound
    themselves)."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return (
            [] if name in seen else uncapped(components[name], f"{where}<{name}>", components, seen | {name})
        )
    found = []
    if (
        schema.get("type") == "string"
        and "maxLength" not in schema
        and "enum" not in schema
        and "const" not in schema
        and not bounded_pattern(schema.get("pattern", ""))
        and schema.get("format") not in UNBOUNDED_FORMATS
    ):
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += uncapped(sub, where, components, seen)
    for name, sub in schema.get("properties", {}).items():
        found += uncapped(sub, f"{where}.{name}", components, seen)
    if "items" in schema:
        found += uncapped(schema["items"], f"{where}[]", components, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        found += uncapped(schema["additionalProperties"], f"{where}{{}}", components, seen)
    return found


def uncapped_in(document: dict[str, Any]) -> tuple[list[str], int]:
    """Every uncapped text field of the document's operations, and how many fields were looked at."""
    components = document.get("components", {}).get("schemas", {})
    found: list[str] = []
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                checked += 1
                where = f"{name} {parameter['in']}:{parameter['name']}"
                found += uncapped(parameter.get("schema", {}), where, components, frozenset())
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                schema = content.get("schema", {})
                where = f"{name} body[{media_type}]"
                if (media_type in WHOLE_BODY_TYPES and schema.get("type") == "string") or where in ALLOWED:
                    continue
                checked += 1
                found += uncapped(schema, where, components, frozenset())
    return found, checked


def test_every_text_field_and_parameter_is_capped(app: FastAPI) -> None:
    document = app.openapi()
    found, checked = uncapped_in(document)
    assert checked >= 250
    domains = {name for name in app.state.kernel.states} | {d.name for d in app.state.kernel.domains}
    assert {"traffic", "reports", "economy", "services", "wifi"} <= domains  # their routes were walked
    assert found == []


def test_a_text_past_its_cap_is_a_422_naming_it(client: TestClient) -> None:
    answer = client.get("/api/reports/public/board", params={"lang": "x" * 10_000})
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"] == ["query", "lang"] and error["type"] == "string_too_long"
    answer = client.get(f"/api/traffic/cameras/{'c' * 5000}")
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["path", "camera_id"]


def test_the_walk_finds_an_uncapped_field() -> None:
    schema = {"$ref": "#/components/schemas/In"}
    components = {"In": {"properties": {"a": {"type": "string"}, "b": {"type": "string", "maxLength": 5}}}}
    assert uncapped(schema, "POST /x", components, frozenset()) == ["POST /x<In>.a"]
    document = {
        "paths": {
            "/x/{id}": {
                "get": {
                    "parameters": [
                        {"in": "path", "name": "id", "schema": {"type": "string"}},
                        {"in": "query", "name": "q", "schema": {"type": "string", "pattern": "^[a-z]{2}$"}},
                        {"in": "header", "name": "h", "schema": {"type": "string", "pattern": "^[a-z]+$"}},
                    ]
                }
            }
        }
    }
    assert uncapped_in(document)[0] == ["GET /x/{id} path:id", "GET /x/{id} header:h"]


@pytest.mark.parametrize(
    ("pattern", "bounded"),
    [
        ("^[A-Z]{2}$", True),
        (r"^\+?[0-9]{8,15}$", True),
        ("^(pending|approved|refused)$", True),
        ("^[a-z]+$", False),
        ("^[a-z]{2,}$", False),
        ("[a-z]{2}", False),
        ("^[a-z*+]{1,5}$", True),
    ],
)
def test_bounded_patterns(pattern: str, bounded: bool) -> None:
    assert bounded_pattern(pattern) is bounded
