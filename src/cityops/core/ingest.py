"""Parsing and validating batches of data points (JSON or NDJSON).

A point is `{"entity": URN, "metric": name, "time": ISO-8601 with zone | epoch ms, "value": number}`.
The whole batch is checked before anything is stored: one bad point rejects the batch, and the error
names the point (index, and line for NDJSON) and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from cityops.core.entities import EntityRef, EntityRegistry

MAX_ERRORS = 20
FUTURE_TOLERANCE_MS = 24 * 3600 * 1000
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
POINT_FIELDS = frozenset(("entity", "metric", "time", "value"))
# |value| at most 10^15: a rollup bucket's sum of even 2^31 such values stays finite (no Infinity in
# `/api/series`, no overflow error on PostgreSQL), and whole numbers up to it are exact in a double.
MAX_MAGNITUDE = 1e15


@dataclass(frozen=True, slots=True)
class FieldError:
    index: int | None
    field: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        loc: list[str | int] = ["body", "points"]
        if self.index is not None:
            loc.append(self.index)
        loc.append(self.field)
        detail: dict[str, Any] = {"loc": loc, "field": self.field, "msg": self.message}
        if self.index is not None:
            detail["index"] = self.index
        if self.line is not None:
            detail["line"] = self.line
        return detail


class IngestError(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(slots=True)
class PointBatch:
    """Validated points, column by column (the store and the rollups read columns)."""

    entity_ids: list[int] = field(default_factory=list)
    metric_ids: list[int] = field(default_factory=list)
    ts_ms: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    entities: dict[int, EntityRef] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values)


def parse_json(body: bytes) -> list[Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise IngestError([FieldError(None, "body", f"malformed JSON: {exc}")]) from None
    if isinstance(document, dict):
        points = document.get("points")
        if not isinstance(points, list):
            raise IngestError([FieldError(None, "points", "must be a list of points")])
        return points
    if isinstance(document, list):
        return document
    raise IngestError([FieldError(None, "body", "must be an object with 'points' or a list of points")])


def parse_ndjson(body: bytes) -> tuple[list[Any], list[int]]:
    """One point per line; blank lines are skipped. Returns the points and their line numbers."""
    points: list[Any] = []
    lines: list[int] = []
    errors: list[FieldError] = []
    for number, raw in enumerate(body.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            points.append(orjson.loads(raw))
            lines.append(number)
        except orjson.JSONDecodeError as exc:
            errors.append(FieldError(len(points), "line", f"malformed JSON: {exc}", line=number))
            if len(errors) >= MAX_ERRORS:
                break
    if errors:
        raise IngestError(errors)
    return points, lines


def _timestamp_ms(raw: Any) -> int:
    if type(raw) is str:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError("not an ISO-8601 date-time") from None
        if moment.tzinfo is None:
            raise ValueError("has no time zone (add 'Z' or an offset such as '+07:00')")
        return int(moment.timestamp() * 1000)
    if type(raw) is int:
        return raw
    raise ValueError("must be an ISO-8601 string with a zone or an integer of epoch milliseconds")


def validate_points(
    raw_points: list[Any],
    registry: EntityRegistry,
    now_ms: int,
    max_points: int,
    lines: list[int] | None = None,
) -> PointBatch:
    if not raw_points:
        raise IngestError([FieldError(None, "points", "the batch is empty")])
    if len(raw_points) > max_points:
        raise IngestError([FieldError(None, "points", f"{len(raw_points)} points; at most {max_points}")])
    batch = PointBatch()
    errors: list[FieldError] = []
    latest_allowed = now_ms + FUTURE_TOLERANCE_MS
    metric_id = registry.metric_id
    resolve = registry.resolve

    def fail(index: int, name: str, message: str) -> None:
        errors.append(FieldError(index, name, message, lines[index] if lines else None))

    for index, point in enumerate(raw_points):
        if len(errors) >= MAX_ERRORS:
            break
        if type(point) is not dict:
            fail(index, "point", "must be an object")
            continue
        if len(point) != 4 or point.keys() != POINT_FIELDS:
            missing = sorted(POINT_FIELDS - point.keys())
            extra = sorted(point.keys() - POINT_FIELDS)
            fail(index, (missing or extra)[0], "is required" if missing else "is not a known field")
            continue
        urn = point["entity"]
        ref = resolve(urn) if type(urn) is str else None
        if ref is None:
            fail(index, "entity", f"unknown entity {urn!r}")
            continue
        metric = point["metric"]
        mid = metric_id(ref.type, metric) if type(metric) is str else None
        if mid is None:
            fail(index, "metric", f"unknown metric {metric!r} for {ref.type}")
            continue
        try:
            ts = _timestamp_ms(point["time"])
        except ValueError as exc:
            fail(index, "time", str(exc))
            continue
        if not EARLIEST_MS <= ts <= latest_allowed:
            fail(index, "time", "is before 2000 or more than 24 hours in the future")
            continue
        value = point["value"]
        kind = type(value)
        if kind is int:
            value = float(value)
        elif kind is not float:
            fail(index, "value", "must be a number")
            continue
        if not math.isfinite(value):
            fail(index, "value", "must be finite")
            continue
        if abs(value) > MAX_MAGNITUDE:
            fail(index, "value", "must be between -10^15 and 10^15")
            continue
        batch.entity_ids.append(ref.id)
        batch.metric_ids.append(mid)
        batch.ts_ms.append(ts)
        batch.values.append(value)
        batch.entities[ref.id] = ref
    if errors:
        raise IngestError(errors)
    return batch
