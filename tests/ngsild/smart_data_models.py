"""Smart Data Models' attribute definitions, as the PyPI package `pysmartdatamodels` ships them
(`model-assets/smartdatamodels.json.gz`: per data model, each attribute's JSON `type`, `typeNGSI`, `enum`
and `format`), and a check of an entity in NGSI-LD normalized form against them. Read from the installed
package's file (no network, no import of the package itself)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.metadata import distribution
from typing import Any

ASSET = "pysmartdatamodels/model-assets/smartdatamodels.json.gz"
JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "array": list,
    "object": dict,
}
GEOMETRIES = frozenset(("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"))
ENTITY_MEMBERS = frozenset(("id", "type", "@context", "createdAt", "modifiedAt", "scope"))


@dataclass(frozen=True)
class Model:
    repo: str  # e.g. dataModel.Device
    name: str  # e.g. Camera: also the entity type the model's `type` enumeration allows


@cache
def definitions() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(repo, model) -> attribute name -> its definition: the model's top-level attributes only (those
    with a `typeNGSI` and no `parentId`; sub-properties of `address`, GeoJSON members are left out)."""
    path = distribution("pysmartdatamodels").locate_file(ASSET)
    with gzip.open(str(path), "rt", encoding="utf-8") as stream:
        records: list[dict[str, Any]] = json.load(stream)
    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for record in records:
        if "typeNGSI" not in record or "parentId" in record:
            continue
        attributes = found.setdefault((record["repoName"], record["dataModel"]), {})
        attributes.setdefault(record["property"], record)
    return found


def _format_problem(value: Any, fmt: str) -> str | None:
    try:
        if fmt == "date-time":
            if datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None:
                return "a date-time without a time zone"
        elif fmt == "date":
            date.fromisoformat(value)
        elif fmt == "uri" and ":" not in value:
            return "not a URI"
    except ValueError:
        return f"not a {fmt}"
    return None


def _value_problems(name: str, value: Any, definition: Mapping[str, Any], any_type: bool) -> list[str]:
    kind = definition.get("type")
    if not any_type and kind in JSON_TYPES:
        wanted = JSON_TYPES[kind]
        if isinstance(value, bool) and kind in ("number", "integer"):
            return [f"{name}: {value!r} is a boolean, the model says {kind}"]
        if not isinstance(value, wanted):
            return [f"{name}: {value!r} is not of the model's JSON type {kind}"]
    problems = []
    allowed = definition.get("enum")
    if allowed is not None:
        items = value if isinstance(value, list) else [value]
        problems += [
            f"{name}: {item!r} is not one of the model's {allowed}" for item in items if item not in allowed
        ]
    fmt = definition.get("format")
    if fmt is not None and isinstance(value, str):
        problem = _format_problem(value, fmt)
        if problem is not None:
            problems.append(f"{name}: {value!r} is {problem}")
    return problems


def violations(
    entity: Mapping[str, Any],
    model: Model,
    extensions: Collection[str] = (),
    any_type: Collection[str] = (),
) -> list[str]:
    """What in `entity` (normalized form) the model does not define as it is: the entity's type, each
    attribute's NGSI-LD type (Property, GeoProperty, Relationship), JSON type, enumeration and format.
    `extensions` are cityops's own attributes (documented in docs/ngsild.md); `any_type` names attributes
    whose JSON type the model leaves open in its text."""
    defined = definitions().get((model.repo, model.name))
    if defined is None:
        return [f"the package defines no model {model.repo}/{model.name}"]
    problems = []
    allowed_types = defined["type"].get("enum", [model.name])
    if entity.get("type") not in allowed_types:
        problems.append(f"type: {entity.get('type')!r} is not the model's {allowed_types}")
    for name, attribute in entity.items():
        if name in ENTITY_MEMBERS or name in extensions:
            continue
        definition = defined.get(name)
        if definition is None:
            problems.append(f"{name}: not an attribute of {model.name} and not a listed extension")
            continue
        ngsi = attribute.get("type") if isinstance(attribute, dict) else None
        if ngsi != definition["typeNGSI"]:
            problems.append(f"{name}: a {ngsi}, the model says {definition['typeNGSI']}")
            continue
        if ngsi == "Relationship":
            target = attribute.get("object")
            if not isinstance(target, str) or not target.startswith("urn:"):
                problems.append(f"{name}: the object {target!r} is not a URN")
        elif ngsi == "GeoProperty":
            geometry = attribute.get("value")
            if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRIES:
                problems.append(f"{name}: {geometry!r} is not a GeoJSON geometry")
        else:
            problems += _value_problems(name, attribute.get("value"), definition, name in any_type)
    return problems
