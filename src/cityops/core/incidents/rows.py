"""Incident rows: the lifecycle's states and moves, reading and writing rows and their history, and the
JSON shapes the API returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Row, insert, select

from cityops.core.events import IncidentChanged
from cityops.core.rules.alerts import iso
from cityops.core.rules.definitions import Severity
from cityops.core.schema_operations import incident_history, incidents

State = Literal["new", "acknowledged", "assigned", "resolved", "closed", "reopened"]
STATES: tuple[State, ...] = get_args(State)
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged"}),
    "acknowledged": frozenset({"assigned"}),
    "assigned": frozenset({"assigned", "resolved"}),
    "resolved": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "reopened": frozenset({"acknowledged", "assigned"}),
}
ACTIVE: tuple[State, ...] = ("new", "acknowledged", "assigned", "reopened")


class IncidentNotFound(LookupError):
    pass


class IllegalTransition(ValueError):
    def __init__(self, from_state: str, to_state: str) -> None:
        allowed = sorted(TRANSITIONS.get(from_state, frozenset()))
        super().__init__(
            f"an incident cannot go from {from_state!r} to {to_state!r}; from {from_state!r}: {allowed}"
        )
        self.from_state = from_state
        self.to_state = to_state
        self.allowed = allowed


class IncidentConflict(ValueError):
    pass


class IncidentFieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class NewIncident:
    title: str
    severity: Severity
    category: str
    description: str = ""
    sub_category: str | None = None
    source: str | None = None
    lon: float | None = None
    lat: float | None = None
    area_code: str | None = None
    legacy_area_code: str | None = None


def incident_to_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "state": row.state,
        "severity": row.severity,
        "category": row.category,
        "sub_category": row.sub_category,
        "source": row.source,
        "area_code": row.area_code,
        "legacy_area_code": row.legacy_area_code,
        "location": None if row.lon is None else {"type": "Point", "coordinates": [row.lon, row.lat]},
        "agency": row.agency,
        "created": iso(row.created_ms),
        "updated": iso(row.updated_ms),
        "acknowledge_due": iso(row.acknowledge_due_ms),
        "resolve_due": iso(row.resolve_due_ms),
        "escalation": row.escalation,
        "escalated": iso(row.escalated_ms),
        "resolved": iso(row.resolved_ms),
        "closed": iso(row.closed_ms),
        "allowed_transitions": sorted(TRANSITIONS[row.state]),
    }


def history_to_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "ts": iso(row.ts_ms),
        "kind": row.kind,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "actor": row.actor,
        "text": row.text,
        "data": row.data,
    }


def attachment_to_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "incident_id": row.incident_id,
        "name": row.original_name,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "uploaded": iso(row.uploaded_ms),
        "actor": row.actor,
    }


def due_at(now: int, minutes: float | None) -> int | None:
    return None if minutes is None else now + int(minutes * 60_000)


def fetch_incident(conn: Connection, incident_id: int) -> Row[Any]:
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    if row is None:
        raise IncidentNotFound(f"incident {incident_id}")
    return row


def record_history(
    conn: Connection,
    incident_id: int,
    now: int,
    kind: str,
    from_state: str | None,
    to_state: str | None,
    actor: str | None,
    text: str | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    result = conn.execute(
        insert(incident_history).values(
            incident_id=incident_id,
            ts_ms=now,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            text=text,
            data=data,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def changed_event(row: Row[Any], change: str, now: int, from_state: str | None = None) -> IncidentChanged:
    return IncidentChanged(
        incident_id=row.id,
        change=change,
        state=row.state,
        severity=row.severity,
        title=row.title,
        ts_ms=now,
        from_state=from_state,
        escalation=row.escalation,
        area_code=row.area_code,
        lon=row.lon,
        lat=row.lat,
    )


def from_alert(alert: Row[Any]) -> NewIncident:
    title = alert.title.get("vi") or alert.rule_id
    description = alert.description.get("vi", "") if isinstance(alert.description, dict) else ""
    return NewIncident(
        title=f"{title} — {alert.source_name}",
        severity=alert.severity,
        category=alert.category,
        description=description,
        sub_category=alert.sub_category,
        source=alert.source if alert.entity_type else None,
        lon=alert.lon,
        lat=alert.lat,
        area_code=alert.area_code,
        legacy_area_code=alert.legacy_area_code,
    )
