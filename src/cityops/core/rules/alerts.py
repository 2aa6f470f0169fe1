"""Alerts in the store: raised and cleared in one transaction per evaluation, read back in the shape of the
Smart Data Models `Alert` (with a GeoJSON location for the map)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, Row, func, insert, select, update

from cityops.core.domain import Text
from cityops.core.events import AlertCleared, AlertRaised, Event
from cityops.core.rules.definitions import Rule
from cityops.core.rules.scope import EntityInfo
from cityops.core.schema_operations import alerts
from cityops.core.store import write_transaction

AlertState = Literal["open", "cleared", "all"]


def iso(ts_ms: int | None) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class AlertOpening:
    rule: Rule
    source: str
    source_name: str
    entity: EntityInfo | None
    value: float | None
    observed_ms: int | None
    description: Text


@dataclass(frozen=True, slots=True)
class AlertClosing:
    rule_id: str
    source: str
    reason: str


AlertChange = AlertOpening | AlertClosing


def open_alert_ids(conn: Connection) -> dict[tuple[str, str], int]:
    query = select(alerts.c.id, alerts.c.rule_id, alerts.c.source).where(alerts.c.cleared_ms.is_(None))
    return {(row.rule_id, row.source): row.id for row in conn.execute(query)}


def write_changes(engine: Engine, changes: Sequence[AlertChange], now_ms: int) -> list[Event]:
    """Store the changes in one transaction; returns the events to publish. A change that the store
    already reflects (another process got there first) is skipped, never duplicated."""
    events: list[Event] = []
    with write_transaction(engine) as conn:
        for change in changes:
            existing = conn.execute(
                select(alerts.c.id).where(
                    alerts.c.rule_id
                    == (change.rule.id if isinstance(change, AlertOpening) else change.rule_id),
                    alerts.c.source == change.source,
                    alerts.c.cleared_ms.is_(None),
                )
            ).scalar_one_or_none()
            if isinstance(change, AlertClosing):
                if existing is not None:
                    conn.execute(
                        update(alerts)
                        .where(alerts.c.id == existing)
                        .values(cleared_ms=now_ms, clear_reason=change.reason)
                    )
                    events.append(
                        AlertCleared(existing, change.rule_id, change.source, now_ms, change.reason)
                    )
                continue
            if existing is not None:
                continue
            events.append(_insert(conn, change, now_ms))
    return events


def _insert(conn: Connection, change: AlertOpening, now_ms: int) -> AlertRaised:
    rule, entity = change.rule, change.entity
    values: dict[str, Any] = {
        "rule_id": rule.id,
        "source": change.source,
        "source_name": change.source_name,
        "entity_type": entity.type if entity else None,
        "area_code": entity.area_code if entity else None,
        "legacy_area_code": entity.legacy_area_code if entity else None,
        "lon": entity.lon if entity else None,
        "lat": entity.lat if entity else None,
        "severity": rule.severity,
        "category": rule.category,
        "sub_category": rule.sub_category,
        "title": rule.title,
        "description": change.description,
        "value": change.value,
        "observed_ms": change.observed_ms,
        "raised_ms": now_ms,
    }
    alert_id = int(conn.execute(insert(alerts).values(**values)).inserted_primary_key[0])  # type: ignore[index]
    return AlertRaised(
        alert_id=alert_id,
        rule_id=rule.id,
        source=change.source,
        source_name=change.source_name,
        severity=rule.severity,
        category=rule.category,
        sub_category=rule.sub_category,
        title=dict(rule.title),
        description=dict(change.description),
        value=change.value,
        raised_ms=now_ms,
        area_code=values["area_code"],
        lon=values["lon"],
        lat=values["lat"],
        opens_incident=rule.opens_incident,
    )


def alert_to_dict(row: Row[Any]) -> dict[str, Any]:
    """One alert in the shape of the Smart Data Models `Alert`, plus what the operations room needs."""
    location = None if row.lon is None else {"type": "Point", "coordinates": [row.lon, row.lat]}
    return {
        "id": f"urn:ngsi-ld:Alert:{row.id}",
        "type": "Alert",
        "alertId": row.id,
        "state": "open" if row.cleared_ms is None else "cleared",
        "category": row.category,
        "subCategory": row.sub_category,
        "severity": row.severity,
        "name": row.title,
        "description": row.description,
        "alertSource": row.source,
        "sourceName": row.source_name,
        "dateIssued": iso(row.raised_ms),
        "validFrom": iso(row.raised_ms),
        "validTo": iso(row.cleared_ms),
        "location": location,
        "areaCode": row.area_code,
        "legacyAreaCode": row.legacy_area_code,
        "incidentId": row.incident_id,
        "data": {
            "ruleId": row.rule_id,
            "entityType": row.entity_type,
            "value": row.value,
            "observedAt": iso(row.observed_ms),
            "clearReason": row.clear_reason,
        },
    }


@dataclass(frozen=True, slots=True)
class AlertFilter:
    state: AlertState = "open"
    severity: str | None = None
    category: str | None = None
    rule_id: str | None = None
    source: str | None = None
    areas: Collection[str] | None = None  # an area and its sub-areas, already expanded

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses on the `alerts` table."""
        conditions: list[ColumnElement[bool]] = []
        if self.state == "open":
            conditions.append(alerts.c.cleared_ms.is_(None))
        elif self.state == "cleared":
            conditions.append(alerts.c.cleared_ms.is_not(None))
        for column, wanted in (
            (alerts.c.severity, self.severity),
            (alerts.c.category, self.category),
            (alerts.c.rule_id, self.rule_id),
            (alerts.c.source, self.source),
        ):
            if wanted is not None:
                conditions.append(column == wanted)
        if self.areas is not None:
            codes = list(self.areas)
            conditions.append(alerts.c.area_code.in_(codes) | alerts.c.legacy_area_code.in_(codes))
        return conditions


def list_alerts(
    conn: Connection, where: AlertFilter, limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page newest first)."""
    conditions = where.conditions()
    total = conn.execute(select(func.count()).select_from(alerts).where(*conditions)).scalar_one()
    rows = conn.execute(
        select(alerts)
        .where(*conditions)
        .order_by(alerts.c.raised_ms.desc(), alerts.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), [alert_to_dict(row) for row in rows]


def get_alert(conn: Connection, alert_id: int) -> Row[Any] | None:
    return conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
