"""The indicator registry: named KPIs with unit, direction and target, computed by a formula.

Domains declare their indicators; the kernel lists and evaluates them for the dashboard and the API.
Formulas read rollups or `latest`, never raw rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, func, select

from cityops.core.domain import Text
from cityops.core.schema import entities, latest, metrics

Direction = Literal["higher", "lower"]
Status = Literal["ok", "warn", "bad", "unknown"]


@dataclass(frozen=True)
class Inputs:
    """What a formula reads: a store connection, the time, and the running domains' state
    (`Kernel.states`, by domain name)."""

    conn: Connection
    now_ms: int
    states: Mapping[str, object]


Formula = Callable[[Inputs], float | None]


@dataclass(frozen=True)
class Indicator:
    id: str
    title: Text
    unit: str
    direction: Direction
    formula: Formula
    target: float | None = None
    # How far short of the target (as a fraction of the target) still counts as "warn" rather than "bad".
    tolerance: float = 0.1

    def status(self, value: float | None) -> Status:
        if value is None or self.target is None:
            return "unknown"
        if self.direction == "higher":
            if value >= self.target:
                return "ok"
            return "warn" if value >= self.target * (1 - self.tolerance) else "bad"
        if value <= self.target:
            return "ok"
        return "warn" if value <= self.target * (1 + self.tolerance) else "bad"


def fresh_share(entity_type: str, metric: str, within_ms: int, at_least: float | None = None) -> Formula:
    """Percentage of entities of a type whose `metric` reported within the last `within_ms`; with
    `at_least`, only those whose newest value is at least that (a camera reporting `state` 0 is down,
    not working, even while it keeps reporting)."""

    def formula(inputs: Inputs) -> float | None:
        conn, now_ms = inputs.conn, inputs.now_ms
        total = conn.execute(
            select(func.count()).select_from(entities).where(entities.c.type == entity_type)
        ).scalar_one()
        if not total:
            return None
        conditions = [
            metrics.c.entity_type == entity_type,
            metrics.c.name == metric,
            latest.c.ts_ms >= now_ms - within_ms,
        ]
        if at_least is not None:
            conditions.append(latest.c.value >= at_least)
        fresh = conn.execute(
            select(func.count())
            .select_from(latest.join(metrics, latest.c.metric_id == metrics.c.id))
            .where(*conditions)
        ).scalar_one()
        return 100.0 * fresh / total

    return formula


def latest_total(entity_type: str, metric: str, within_ms: int) -> Formula:
    """Sum over entities of a type of the newest value of `metric`, counting only recent reports."""

    def formula(inputs: Inputs) -> float | None:
        conn, now_ms = inputs.conn, inputs.now_ms
        value = conn.execute(
            select(func.sum(latest.c.value))
            .select_from(latest.join(metrics, latest.c.metric_id == metrics.c.id))
            .where(
                metrics.c.entity_type == entity_type,
                metrics.c.name == metric,
                latest.c.ts_ms >= now_ms - within_ms,
            )
        ).scalar_one()
        return None if value is None else float(value)

    return formula
