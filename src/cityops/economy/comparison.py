"""The localities' before/after means of a kernel metric (e.g. wifi users per access point by ward),
read from the daily rollups, for the pilot comparison (`did.py`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Connection, and_, case, func, select

from cityops.core.schema import entities, metrics, rollups
from cityops.economy.did import Locality
from cityops.economy.schema import rollout

VN = timezone(timedelta(hours=7))


def day_start_ms(day: date) -> int:
    return int(datetime.combine(day, time(0), VN).timestamp() * 1000)


def localities(
    conn: Connection, entity_type: str, metric: str, since: date, change: date, until: date
) -> list[Locality]:
    """One `Locality` per area that has the metric both before `change` (from `since`) and after it
    (to `until`, excluded); pilots are the rollout's wave 0. Areas are matched on the scheme the
    rollout names them in (legacy or 2025 codes)."""
    pilots = set(conn.scalars(select(rollout.c.area_code).where(rollout.c.wave == 0)))
    area = (
        entities.c.legacy_area_code if any(c.startswith("legacy:") for c in pilots) else entities.c.area_code
    )
    pivot = day_start_ms(change)
    after = rollups.c.bucket_ms >= pivot
    query = (
        select(
            area.label("area"),
            func.sum(case((after, 0.0), else_=rollups.c.sum)).label("sum_before"),
            func.sum(case((after, 0), else_=rollups.c.count)).label("count_before"),
            func.sum(case((after, rollups.c.sum), else_=0.0)).label("sum_after"),
            func.sum(case((after, rollups.c.count), else_=0)).label("count_after"),
        )
        .select_from(
            rollups.join(entities, entities.c.id == rollups.c.entity_id).join(
                metrics, metrics.c.id == rollups.c.metric_id
            )
        )
        .where(
            and_(
                rollups.c.grain == "d",
                rollups.c.bucket_ms >= day_start_ms(since),
                rollups.c.bucket_ms < day_start_ms(until),
                entities.c.type == entity_type,
                metrics.c.entity_type == entity_type,
                metrics.c.name == metric,
                area.is_not(None),
            )
        )
        .group_by(area)
    )
    found = []
    for row in conn.execute(query):
        if row.count_before and row.count_after:
            found.append(
                Locality(
                    row.area,
                    row.area in pilots,
                    row.sum_before / row.count_before,
                    row.sum_after / row.count_after,
                )
            )
    return found
