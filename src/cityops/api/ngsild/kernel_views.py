"""The kernel's own records as read-only NGSI-LD views in Smart Data Models form: alerts as `Alert`
(dataModel.Alert) and the domains' indicators as `KeyPerformanceIndicator`
(dataModel.KeyPerformanceIndicator). Mapping and extensions: docs/ngsild.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

from sqlalchemy import Row, select

from cityops.core.access.accounts import Role
from cityops.core.domain import (
    EntityView,
    ViewEntity,
    ngsi_property,
    ngsi_relationship,
    ngsi_time,
    row_numbers,
)
from cityops.core.indicators import Indicator, Inputs
from cityops.core.kernel import Kernel
from cityops.core.rules.definitions import Category
from cityops.core.schema_operations import alerts

ALERT_PREFIX = "urn:ngsi-ld:Alert:"
KPI_PREFIX = "urn:ngsi-ld:KeyPerformanceIndicator:"
# The newest alerts a query reads (the alerts table keeps every alert ever raised).
MAX_ALERTS = 10_000
# cityops's own categories, which the model's enumeration has no word for, travel in `data.category`.
PROJECT_CATEGORIES = frozenset(("infrastructure", "publicService"))
SDM_CATEGORIES = frozenset(get_args(Category)) - PROJECT_CATEGORIES
STANDING = {"ok": "good", "warn": "fair", "bad": "bad"}


def _alert(row: Row[Any]) -> ViewEntity:
    source = row.source if row.source.startswith("urn:") else KPI_PREFIX + row.source
    data: dict[str, Any] = {"ruleId": row.rule_id, "sourceName": row.source_name}
    if row.entity_type is not None:
        data["entityType"] = row.entity_type
    if row.value is not None:
        data["value"] = row.value
    if row.clear_reason is not None:
        data["clearReason"] = row.clear_reason
    if row.incident_id is not None:
        data["incidentId"] = row.incident_id
    attributes = {
        "description": ngsi_property(row.description.get("vi", "")),
        "severity": ngsi_property(row.severity),
        "alertSource": ngsi_relationship(source),
        "dateIssued": ngsi_time(row.raised_ms),
        "validFrom": ngsi_time(row.raised_ms),
    }
    if row.category in SDM_CATEGORIES:
        attributes["category"] = ngsi_property(row.category)
    else:
        data["category"] = row.category
    attributes["data"] = ngsi_property(data)
    if row.sub_category is not None:
        attributes["subCategory"] = ngsi_property(row.sub_category)
    if row.cleared_ms is not None:
        attributes["validTo"] = ngsi_time(row.cleared_ms)
    if row.observed_ms is not None:
        attributes["dateCreated"] = ngsi_time(row.observed_ms)
    return ViewEntity(
        id=ALERT_PREFIX + str(row.id),
        name=row.title.get("vi", row.rule_id),
        attributes=attributes,
        lon=row.lon,
        lat=row.lat,
        area_codes=tuple(c for c in (row.area_code, row.legacy_area_code) if c is not None),
        created_ms=row.raised_ms,
        modified_ms=row.cleared_ms or row.raised_ms,
    )


def alert_entities(kernel: Kernel, ids: frozenset[str] | None) -> Iterator[ViewEntity]:
    """Alerts newest first (the newest `MAX_ALERTS` when no ids are given)."""
    query = select(alerts).order_by(alerts.c.id.desc())
    if ids is None:
        query = query.limit(MAX_ALERTS)
    else:
        query = query.where(alerts.c.id.in_(row_numbers(ids, ALERT_PREFIX)))
    with kernel.engine.connect() as conn:
        rows = conn.execute(query).all()
    return (_alert(row) for row in rows)


def _kpi(indicator: Indicator, value: float | None, now_ms: int) -> ViewEntity:
    attributes = {
        "description": ngsi_property(indicator.title.get("en", indicator.id)),
        "category": ngsi_property(["quantitative"]),
        "calculationMethod": ngsi_property("automatic"),
        "calculatedBy": ngsi_property("cityops"),
        "updatedAt": ngsi_time(now_ms),
        "unit": ngsi_property(indicator.unit),
    }
    if value is not None:
        attributes["kpiValue"] = {
            "type": "Property",
            "value": value,
            "observedAt": ngsi_time(now_ms)["value"],
        }
    standing = STANDING.get(indicator.status(value))
    if standing is not None:
        attributes["currentStanding"] = ngsi_property(standing)
    if indicator.target is not None:
        sign = "≥" if indicator.direction == "higher" else "≤"
        attributes["businessTarget"] = ngsi_property(f"{sign} {indicator.target:g} {indicator.unit}")
    return ViewEntity(
        id=KPI_PREFIX + indicator.id,
        name=indicator.title.get("vi", indicator.id),
        attributes=attributes,
        created_ms=now_ms,
        modified_ms=now_ms,
    )


def indicator_entities(kernel: Kernel, ids: frozenset[str] | None) -> Iterator[ViewEntity]:
    """The domains' indicators, computed now, in the order the domains declare them."""
    chosen = [i for i in kernel.indicators if ids is None or KPI_PREFIX + i.id in ids]
    now = kernel.now_ms()
    with kernel.engine.connect() as conn:
        values = [(i, i.formula(Inputs(conn, now, kernel.states))) for i in chosen]
    return (_kpi(indicator, value, now) for indicator, value in values)


KERNEL_VIEWS = (
    # Alerts are read where the REST API lets them be read: not by agency officers (api/operations.py).
    EntityView("Alert", alert_entities, readers=frozenset({Role.ADMIN, Role.OPERATOR, Role.LEADER})),
    EntityView("KeyPerformanceIndicator", indicator_entities),
)
