"""The wifi domain's indicators for the operations room (the province as a whole, every tenant)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, distinct, func, select

from cityops.core.indicators import Formula, Inputs
from cityops.wifi.plans import day_start_ms
from cityops.wifi.schema import access_points, sessions


def hotspots_up(inputs: Inputs) -> float | None:
    """Percent of the hotspots ever heard of that are up now."""
    rows = inputs.conn.execute(
        select(access_points.c.state, func.count()).group_by(access_points.c.state)
    ).all()
    counts = {state: int(n) for state, n in rows}
    known = counts.get("up", 0) + counts.get("down", 0)
    return None if known == 0 else 100.0 * counts.get("up", 0) / known


def users_now(inputs: Inputs) -> float | None:
    return float(
        inputs.conn.execute(select(func.count()).where(sessions.c.stopped_ms.is_(None))).scalar_one()
    )


def today(what: str) -> Formula:
    """Sessions, distinct devices or data volume (GB) of the sessions started today (UTC+7)."""
    columns: dict[str, ColumnElement[Any]] = {
        "sessions": func.count(),
        "devices": func.count(distinct(sessions.c.client_mac)),
        "gigabytes": func.coalesce(func.sum(sessions.c.input_bytes + sessions.c.output_bytes), 0) / 1e9,
    }

    def formula(inputs: Inputs) -> float | None:
        query = select(columns[what]).where(sessions.c.started_ms >= day_start_ms(inputs.now_ms))
        return float(inputs.conn.execute(query).scalar_one())

    return formula
