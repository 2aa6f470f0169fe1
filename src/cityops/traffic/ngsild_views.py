"""Each camera's newest traffic flow as an NGSI-LD `TrafficFlowObserved` (Smart Data Models,
dataModel.Transportation), a read-only view over the camera's metrics: `urn:ngsi-ld:TrafficFlowObserved:<camera>`
with `refDevice` naming the camera (docs/ngsild.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cityops.core.domain import ViewEntity, ngsi_property, ngsi_relationship, ngsi_time
from cityops.core.observations import read_latest
from cityops.traffic.analytics.flow import CongestionLevel
from cityops.traffic.registry import CameraRow, read_cameras

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

TYPE = "TrafficFlowObserved"
PREFIX = f"urn:ngsi-ld:{TYPE}:"
# `intensity` is vehicles per minute: the observation period stated is the minute ending at the newest value.
PERIOD_MS = 60_000


def _flow(row: CameraRow, values: dict[str, tuple[int, float]]) -> ViewEntity | None:
    if "intensity" not in values:
        return None
    observed = max(ts for ts, _ in values.values())
    attributes: dict[str, dict[str, Any]] = {
        "refDevice": ngsi_relationship(row.urn),
        "intensity": ngsi_property(values["intensity"][1]),
        "dateObserved": ngsi_time(observed),
        "dateObservedFrom": ngsi_time(observed - PERIOD_MS),
        "dateObservedTo": ngsi_time(observed),
    }
    if "occupancy" in values:  # cityops keeps a percentage, the model a fraction of the time
        attributes["occupancy"] = ngsi_property(round(values["occupancy"][1] / 100, 4))
    if "averageVehicleSpeed" in values:
        attributes["averageVehicleSpeed"] = ngsi_property(values["averageVehicleSpeed"][1])
    if "congestionLevel" in values:
        attributes["congested"] = ngsi_property(values["congestionLevel"][1] >= CongestionLevel.CONGESTED)
    return ViewEntity(
        id=PREFIX + row.camera_id,
        name=row.name,
        attributes=attributes,
        lon=row.lon,
        lat=row.lat,
        area_codes=tuple(c for c in (row.area_code, row.legacy_area_code) if c is not None),
        created_ms=observed,
        modified_ms=observed,
    )


def traffic_flows(kernel: Kernel, ids: frozenset[str] | None) -> Iterator[ViewEntity]:
    """The newest flow of every camera (not retired) that has reported one, in camera order."""
    cameras = None if ids is None else sorted(i.removeprefix(PREFIX) for i in ids if i.startswith(PREFIX))
    names = kernel.registry.metric_names
    with kernel.engine.connect() as conn:
        rows = read_cameras(conn, cameras)
        newest = read_latest(conn)
    for row in rows:
        values = {names[m][1]: point for m, point in newest.get(row.entity_id, {}).items() if m in names}
        flow = _flow(row, values)
        if flow is not None:
            yield flow
