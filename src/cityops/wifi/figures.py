"""The wifi figures of a day (civil day, UTC+7), per tenant, ward or hotspot, within a tenant view.

users now            sessions open now
sessions             sessions started in the day
devices              distinct client devices (their MAC or its keyed hash) in the day
bytes                data volume of the sessions started in the day (in + out)
peak concurrency     most sessions open at the same moment in the day
availability %       share of the day's minutes the hotspot reported up (the kernel's `up` rollups)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from sqlalchemy import Connection, String, and_, literal, or_, select

from cityops.core.entities import make_urn
from cityops.core.schema import entities, metrics, rollups
from cityops.wifi.plans import DAY_MS, day_start_ms
from cityops.wifi.schema import access_points, sessions, tenants
from cityops.wifi.tenancy import TenantView

Grouping = Literal["tenant", "ward", "hotspot"]
URN_PREFIX = make_urn("AccessPoint", "")


def peak_concurrency(intervals: list[tuple[int, int]]) -> int:
    """The most intervals [start, end) covering one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def daily_figures(conn: Connection, view: TenantView, by: Grouping, now_ms: int) -> list[dict[str, Any]]:
    start = day_start_ms(now_ms)
    end = start + DAY_MS
    ward = entities.c.area_code
    query = (
        select(
            sessions.c.started_ms,
            sessions.c.stopped_ms,
            sessions.c.client_mac,
            sessions.c.input_bytes,
            sessions.c.output_bytes,
            sessions.c.access_point_id,
            tenants.c.slug,
            ward.label("ward"),
        )
        .join(tenants, tenants.c.id == sessions.c.tenant_id)
        .outerjoin(entities, entities.c.urn == literal(URN_PREFIX, String) + sessions.c.access_point_id)
        .where(
            view.where(sessions.c.tenant_id),
            sessions.c.started_ms < end,
            or_(sessions.c.stopped_ms.is_(None), sessions.c.stopped_ms >= start),
        )
    )
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"users_now": 0, "sessions": 0, "devices": set(), "bytes": 0, "intervals": []}
    )
    for row in conn.execute(query):
        key = {"tenant": row.slug, "ward": row.ward, "hotspot": row.access_point_id}[by] or "?"
        group = groups[key]
        if row.stopped_ms is None:
            group["users_now"] += 1
        if row.started_ms >= start:
            group["sessions"] += 1
            group["bytes"] += row.input_bytes + row.output_bytes
        if row.client_mac:
            group["devices"].add(row.client_mac)
        group["intervals"].append((max(row.started_ms, start), min(row.stopped_ms or now_ms, end)))
    availability = hotspot_availability(conn, view, start) if by == "hotspot" else {}
    for hotspot in availability:  # a hotspot nobody used today still has its availability
        groups[hotspot]  # the defaultdict creates its empty group
    result = []
    for key, group in sorted(groups.items()):
        result.append(
            {
                by: key,
                "users_now": group["users_now"],
                "sessions": group["sessions"],
                "devices": len(group["devices"]),
                "bytes": group["bytes"],
                "peak_concurrency": peak_concurrency(group["intervals"]),
                **({"availability_pct": availability.get(key)} if by == "hotspot" else {}),
            }
        )
    return result


def hotspot_availability(conn: Connection, view: TenantView, day_start: int) -> dict[str, float]:
    """Percent of the day's `up` reports that said up, per hotspot (the kernel's day rollups)."""
    ids = [
        str(i)
        for i in conn.execute(
            select(access_points.c.id).where(view.where(access_points.c.tenant_id))
        ).scalars()
    ]
    if not ids:
        return {}
    urns = {URN_PREFIX + i: i for i in ids}
    query = (
        select(entities.c.urn, rollups.c.sum, rollups.c.count)
        .join(rollups, rollups.c.entity_id == entities.c.id)
        .join(metrics, and_(metrics.c.id == rollups.c.metric_id, metrics.c.name == "up"))
        .where(entities.c.urn.in_(list(urns)), rollups.c.grain == "d", rollups.c.bucket_ms == day_start)
    )
    found = conn.execute(query).all()
    return {urns[urn]: round(100.0 * total / count, 1) for urn, total, count in found if count}
