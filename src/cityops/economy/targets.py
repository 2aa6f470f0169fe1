"""Annual targets of a series (a level for the year, or a growth rate) and the gap to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, delete, insert, select

from cityops.core import audit
from cityops.core.text_limits import Key
from cityops.economy.schema import targets


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series_code: Key
    year: int = Field(ge=1900, le=2199)
    kind: Literal["value", "growth"] = Field(
        description="'value': the year's total in the series' unit; 'growth': % on the previous year"
    )
    target: float = Field(allow_inf_nan=False)
    source: str = Field(min_length=1, max_length=300)
    simulated: bool = False


@dataclass(frozen=True)
class Gap:
    kind: str
    target: float
    source: str
    simulated: bool
    gap: float | None  # value: what is left to reach the year's target; growth: points above (+) or below
    achieved_pct: float | None  # value targets: share of the year's target reached so far


def put(conn: Connection, items: list[TargetIn], actor: str) -> None:
    for item in items:
        key = (targets.c.series_code == item.series_code) & (targets.c.year == item.year)
        before = conn.execute(select(targets).where(key)).mappings().first()
        conn.execute(delete(targets).where(key))
        conn.execute(insert(targets), [item.model_dump()])
        audit.record(
            conn,
            actor,
            "economy_target.put",
            f"economy_target:{item.series_code}:{item.year}",
            dict(before) if before else None,
            item.model_dump(),
        )


def of_year(conn: Connection, year: int) -> dict[str, Any]:
    return {row.series_code: row for row in conn.execute(select(targets).where(targets.c.year == year))}


def gap(target: Any, value: float | None, change: float | None) -> Gap:
    if target.kind == "value":
        left = None if value is None else target.target - value
        achieved = None if value is None or not target.target else 100.0 * value / target.target
        return Gap("value", target.target, target.source, target.simulated, left, achieved)
    points = None if change is None else change - target.target
    return Gap("growth", target.target, target.source, target.simulated, points, None)
