"""A stored entity (row of `entities` plus the newest value of each metric) in the NGSI-LD forms:
normalized, keyValues (simplified) and concise, and an NGSI-LD entity body split back into what the
store keeps.

Mapping (docs/ngsild.md): `name` is the entity's name column, `location` its point (a GeoProperty), each
metric of the type a Property whose value and `observedAt` come from the newest observation (`latest`),
and every other attribute lives in the entity's `attributes` JSON — a plain value for a bare Property
(what the domains write), the whole normalized attribute otherwise (Relationships, sub-attributes,
`unitCode`...).
"""

from __future__ import annotations

import math
import time
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cityops.api.ngsild.context import Context
from cityops.api.ngsild.errors import bad_data
from cityops.core.ingest import EARLIEST_MS, FUTURE_TOLERANCE_MS

ATTRIBUTE_TYPES = frozenset(("Property", "Relationship", "GeoProperty", "LanguageProperty"))
ENTITY_MEMBERS = frozenset(("id", "type", "@context", "scope", "createdAt", "modifiedAt"))
MAX_ATTRIBUTES = 200


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(raw: Any, field_name: str) -> int:
    """Epoch ms of an ISO 8601 date-time with a zone."""
    if not isinstance(raw, str):
        raise bad_data(f"{field_name}: must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_data(f"{field_name}: {raw!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise bad_data(f"{field_name}: {raw!r} has no time zone (add 'Z' or an offset)")
    return int(moment.timestamp() * 1000)


@dataclass(slots=True)
class StoredEntity:
    id: int
    urn: str
    type: str
    name: str
    lon: float | None
    lat: float | None
    attributes: dict[str, Any]
    created_ms: int
    updated_ms: int
    area_code: str | None = None
    legacy_area_code: str | None = None
    metrics: dict[str, tuple[int, float]] = field(default_factory=dict)  # name -> (ts_ms, value)

    @property
    def location(self) -> tuple[float, float] | None:
        return None if self.lon is None or self.lat is None else (self.lon, self.lat)

    def normalized_attributes(self) -> dict[str, Any]:
        """Stored name -> normalized attribute."""
        out: dict[str, Any] = {"name": {"type": "Property", "value": self.name}}
        if self.lon is not None and self.lat is not None:
            out["location"] = {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [self.lon, self.lat]},
            }
        for key, stored in self.attributes.items():
            if stored is None:  # a domain's placeholder (a camera's hidden `streamURL`): NGSI-LD has no null
                continue
            out[key] = stored if is_normalized(stored) else {"type": "Property", "value": stored}
        for metric, (ts_ms, value) in self.metrics.items():
            out[metric] = {"type": "Property", "value": value, "observedAt": iso(ts_ms)}
        return out


def is_normalized(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in ATTRIBUTE_TYPES


def simplified(attribute: dict[str, Any]) -> Any:
    if attribute.get("type") == "Relationship":
        return attribute.get("object")
    if attribute.get("type") == "LanguageProperty":
        return {"languageMap": attribute.get("languageMap")}
    return attribute.get("value")


def render(
    entity: StoredEntity,
    context: Context,
    form: str,
    attrs: Set[str] | None,
    sys_attrs: bool = False,
) -> dict[str, Any]:
    """The entity in `form` ('normalized', 'keyValues' or 'concise'), with its terms in `context`."""
    body: dict[str, Any] = {"id": entity.urn, "type": context.term_for(entity.type)}
    for name, attribute in entity.normalized_attributes().items():
        if attrs is not None and name not in attrs:
            continue
        term = context.term_for(name)
        if form == "keyValues":
            body[term] = simplified(attribute)
            continue
        shown = dict(attribute)
        if form == "concise":
            shown.pop("type", None)
        if sys_attrs:
            shown.setdefault("modifiedAt", iso(entity.updated_ms))
        body[term] = shown
    if sys_attrs:
        body["createdAt"] = iso(entity.created_ms)
        body["modifiedAt"] = iso(entity.updated_ms)
    return body


# --- incoming bodies -------------------------------------------------------------------------------
@dataclass(slots=True)
class Fragment:
    """What a request body says about an entity, in stored names."""

    name: str | None = None
    location: tuple[float, float] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # stored form (plain value or normalized)
    observations: dict[str, tuple[float, int | None]] = field(default_factory=dict)  # metric -> (value, ms)
    deleted: set[str] = field(default_factory=set)  # attributes set to null (merge-patch style)

    def names(self) -> list[str]:
        out = [*self.attributes, *self.observations]
        if self.name is not None:
            out.append("name")
        if self.location is not None:
            out.append("location")
        return out


def attribute_of(raw: Any, field_name: str) -> dict[str, Any]:
    """A request attribute in normalized form (a concise one — no `type` — is read as in CIM 009 4.5.8)."""
    if isinstance(raw, list):
        if len(raw) != 1:
            raise bad_data(f"{field_name}: several instances (datasetId) are not supported")
        raw = raw[0]
    if not isinstance(raw, dict):
        return {"type": "Property", "value": raw}
    kind = raw.get("type")
    if kind is None:
        if "object" in raw:
            return {"type": "Relationship", **raw}
        if "languageMap" in raw:
            return {"type": "LanguageProperty", **raw}
        if "value" in raw:
            return {"type": "Property", **raw}
        if raw.get("type") is None and "coordinates" in raw:
            return {"type": "GeoProperty", "value": raw}
        return {"type": "Property", "value": raw}
    if kind not in ATTRIBUTE_TYPES:
        if isinstance(kind, str) and "coordinates" in raw:  # a bare GeoJSON geometry (concise)
            return {"type": "GeoProperty", "value": raw}
        raise bad_data(f"{field_name}: type must be one of {sorted(ATTRIBUTE_TYPES)}, not {kind!r}")
    if kind == "Relationship" and not isinstance(raw.get("object"), str | list):
        raise bad_data(f"{field_name}: a Relationship needs an 'object' (URI)")
    if kind in ("Property", "GeoProperty") and "value" not in raw:
        raise bad_data(f"{field_name}: a {kind} needs a 'value'")
    if kind == "LanguageProperty" and not isinstance(raw.get("languageMap"), dict):
        raise bad_data(f"{field_name}: a LanguageProperty needs a 'languageMap' object")
    if raw.get("value", 0) is None:
        raise bad_data(f"{field_name}: value must not be null")
    return dict(raw)


def _point(attribute: dict[str, Any], field_name: str) -> tuple[float, float]:
    geometry = attribute.get("value")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise bad_data(f"{field_name}: the location must be a GeoJSON Point (other geometries are not kept)")
    coordinates = geometry.get("coordinates")
    if (
        not isinstance(coordinates, list)
        or len(coordinates) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
    ):
        raise bad_data(f"{field_name}: coordinates must be [longitude, latitude]")
    lon, lat = float(coordinates[0]), float(coordinates[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise bad_data(f"{field_name}: longitude/latitude out of range")
    return lon, lat


def fragment_of(
    body: dict[str, Any], context: Context, metrics: frozenset[str], allow_null: bool = False
) -> Fragment:
    """Split an entity body (or an attributes body) into the store's parts; `metrics` are the names of
    the entity type's metrics, whose values become observations."""
    fragment = Fragment()
    attributes = [(k, v) for k, v in body.items() if k not in ENTITY_MEMBERS]
    if len(attributes) > MAX_ATTRIBUTES:
        raise bad_data(f"at most {MAX_ATTRIBUTES} attributes per entity")
    for term, raw in attributes:
        name = context.stored_name(term)
        if raw is None or (isinstance(raw, dict) and raw.get("value", 0) is None and allow_null):
            if not allow_null:
                raise bad_data(f"{term}: must not be null")
            fragment.deleted.add(name)
            continue
        attribute = attribute_of(raw, term)
        if name == "name":
            if attribute["type"] != "Property" or not isinstance(attribute.get("value"), str):
                raise bad_data("name: must be a Property whose value is a string")
            if not attribute["value"].strip():
                raise bad_data("name: must not be empty")
            fragment.name = attribute["value"]
        elif name == "location":
            fragment.location = _point(attribute, term)
        elif name in metrics:
            fragment.observations[name] = _observation(attribute, term)
        else:
            bare = set(attribute) <= {"type", "value"} and attribute["type"] == "Property"
            fragment.attributes[name] = attribute["value"] if bare else attribute
    return fragment


def _observation(attribute: dict[str, Any], field_name: str) -> tuple[float, int | None]:
    value = attribute.get("value")
    if attribute.get("type") != "Property":
        raise bad_data(f"{field_name}: a metric must be a Property")
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_data(f"{field_name}: a metric's value must be a finite number")
    observed = attribute.get("observedAt")
    if observed is None:
        return float(value), None
    ms = parse_time(observed, f"{field_name}.observedAt")
    if not EARLIEST_MS <= ms <= time.time() * 1000 + FUTURE_TOLERANCE_MS:
        raise bad_data(f"{field_name}.observedAt: is before 2000 or more than 24 hours in the future")
    return float(value), ms
