"""Approved citizens' reports as NGSI-LD Open311 service requests: Smart Data Models `service_requests`
(dataModel.IssueTracking; the model formerly named Open311_ServiceRequest). Only what the public board
shows, screened like the open data (`core.opendata.scrub`); never the reporter's name, e-mail or phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cityops.core.domain import EntityView, ViewEntity, ngsi_property, ngsi_time, row_numbers
from cityops.core.opendata import scrub
from cityops.reports.desk import approved_reports
from cityops.reports.routing import RoutingTable
from cityops.reports.schema import reports

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

TYPE = "service_requests"
PREFIX = f"urn:ngsi-ld:{TYPE}:"
# The newest approved reports a query reads.
MAX_REPORTS = 10_000


def _request(row: Any, table: RoutingTable) -> ViewEntity:
    category = table.category(row.service_code)
    service_name = category.vi if category else row.service_code
    closed = row.incident_state in ("resolved", "closed")
    attributes: dict[str, dict[str, Any]] = {
        "service_request_id": ngsi_property(str(row.id)),
        "service_code": ngsi_property(row.service_code),
        "service_name": ngsi_property(service_name),
        "description": ngsi_property(scrub(row.description)),
        "agency_responsible": ngsi_property(row.agency),
        "status": ngsi_property("closed" if closed else "open"),
        "requested_datetime": ngsi_time(row.created_ms),
        "dateCreated": ngsi_time(row.created_ms),
    }
    if row.address:
        attributes["address_string"] = ngsi_property(scrub(row.address))
    if row.incident_updated_ms is not None:
        attributes["updated_datetime"] = ngsi_time(row.incident_updated_ms)
        attributes["dateModified"] = ngsi_time(row.incident_updated_ms)
    return ViewEntity(
        id=PREFIX + str(row.id),
        name=f"{service_name} #{row.id}",
        attributes=attributes,
        lon=row.lon,
        lat=row.lat,
        area_codes=tuple(c for c in (row.area_code, row.legacy_area_code) if c is not None),
        created_ms=row.created_ms,
        modified_ms=row.incident_updated_ms or row.created_ms,
    )


def service_requests(kernel: Kernel, ids: frozenset[str] | None) -> Iterator[ViewEntity]:
    """Approved reports, newest first."""
    query = approved_reports().order_by(reports.c.id.desc())
    if ids is None:
        query = query.limit(MAX_REPORTS)
    else:
        query = query.where(reports.c.id.in_(row_numbers(ids, PREFIX)))
    with kernel.engine.connect() as conn:
        rows = conn.execute(query).all()
    table = RoutingTable.load()
    return (_request(row, table) for row in rows)


VIEWS = (EntityView(TYPE, service_requests),)
