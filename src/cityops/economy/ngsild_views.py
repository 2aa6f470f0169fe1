"""The economic series as NGSI-LD `KeyPerformanceIndicator`s (Smart Data Models,
dataModel.KeyPerformanceIndicator), read-only: `urn:ngsi-ld:KeyPerformanceIndicator:economy.<series>`
with the figure in force for the newest period that has one (docs/ngsild.md)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from cityops.core.domain import EntityView, ViewEntity, ngsi_property, ngsi_time
from cityops.economy.figures import Figure, series_in_force
from cityops.economy.schema import series
from cityops.economy.units import UNITS

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

PREFIX = "urn:ngsi-ld:KeyPerformanceIndicator:economy."
FREQUENCY = {"month": "monthly", "year": "yearly"}


def _series(row: Any, figure: Figure) -> ViewEntity:
    period = figure.period
    last_day = calendar.monthrange(period.year, period.last_month)[1]
    attributes: dict[str, dict[str, Any]] = {
        "description": ngsi_property(row.title.get("en", row.code)),
        "category": ngsi_property(["quantitative", "lagging"]),
        "calculationMethod": ngsi_property("manual"),
        "calculationPeriod": ngsi_property(
            {
                "from": f"{period.year}-{period.first_month:02d}-01",
                "to": f"{period.year}-{period.last_month:02d}-{last_day:02d}",
            }
        ),
        "source": ngsi_property(figure.source),
        "areaServed": ngsi_property(row.area_code),
        "dateModified": ngsi_time(figure.recorded_ms),
        "unit": ngsi_property(UNITS.get(row.unit, {}).get("vi", row.unit)),
        "simulated": ngsi_property(figure.simulated),
    }
    if row.period_type in FREQUENCY:
        attributes["calculationFrequency"] = ngsi_property(FREQUENCY[row.period_type])
    if figure.value is not None:
        attributes["kpiValue"] = ngsi_property(figure.value)
    if figure.change_pct is not None:
        attributes["changePercent"] = ngsi_property(figure.change_pct)
    if figure.qualifier is not None:
        attributes["qualifier"] = ngsi_property(figure.qualifier)
    return ViewEntity(
        id=PREFIX + row.code,
        name=row.title.get("vi", row.code),
        attributes=attributes,
        area_codes=(row.area_code,),
        created_ms=row.created_ms,
        modified_ms=figure.recorded_ms,
    )


def economic_series(kernel: Kernel, ids: frozenset[str] | None) -> Iterator[ViewEntity]:
    """Every series that has a figure, in code order, with the figure of its newest period (the longest
    one where a month and a cumulative period end together)."""
    query = select(series).order_by(series.c.code)
    if ids is not None:
        query = query.where(series.c.code.in_([i.removeprefix(PREFIX) for i in ids if i.startswith(PREFIX)]))
    with kernel.engine.connect() as conn:
        found = [(row, series_in_force(conn, row.code)) for row in conn.execute(query)]
    for row, figures in found:
        if figures:
            newest = max(figures, key=lambda p: (p.year, p.last_month, p.months))
            yield _series(row, figures[newest])


VIEWS = (EntityView("KeyPerformanceIndicator", economic_series),)
