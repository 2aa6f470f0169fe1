"""Storing figures with their revisions, and reading the figures in force.

A figure for a (series, period) is stored once as revision 0. Sending the same figure again changes
nothing; sending a different one is refused unless it is declared a revision, which is stored as the next
revision beside the earlier ones (and audited): a revised figure never silently replaces a published one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, tuple_

from cityops.core import audit
from cityops.economy.periods import Period
from cityops.economy.schema import values

QUALIFIERS = ("over", "about")


@dataclass(frozen=True)
class NewFigure:
    series_code: str
    period: Period
    value: float | None
    change_pct: float | None = None
    qualifier: str | None = None
    source: str = ""
    simulated: bool = False
    note: str | None = None

    def same_as(self, stored: Figure) -> bool:
        return (self.value, self.change_pct, self.qualifier) == (
            stored.value,
            stored.change_pct,
            stored.qualifier,
        )


@dataclass(frozen=True)
class Figure:
    series_code: str
    period: Period
    revision: int
    value: float | None
    change_pct: float | None
    qualifier: str | None
    source: str
    simulated: bool
    note: str | None
    recorded_ms: int
    recorded_by: str

    @classmethod
    def from_row(cls, row: Any) -> Figure:
        return cls(
            row.series_code,
            Period(row.year, row.first_month, row.last_month),
            row.revision,
            row.value,
            row.change_pct,
            row.qualifier,
            row.source,
            row.simulated,
            row.note,
            row.recorded_ms,
            row.recorded_by,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["period"] = self.period.key
        return data


@dataclass(frozen=True)
class Conflict:
    position: int  # index in the figures given
    message: str


class FiguresRefused(ValueError):
    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} figure(s) refused")
        self.conflicts = conflicts


@dataclass(frozen=True)
class Outcome:
    stored: int = 0
    revised: int = 0
    unchanged: int = 0


def store(conn: Connection, figures: Sequence[NewFigure], actor: str, revise: bool) -> Outcome:
    """Store `figures` in the caller's transaction, all or nothing (FiguresRefused lists what conflicts)."""
    current = in_force(conn, ((f.series_code, f.period) for f in figures))
    conflicts: list[Conflict] = []
    rows: list[dict[str, Any]] = []
    revisions: list[tuple[dict[str, Any], Figure]] = []
    stored = unchanged = 0
    now = int(time.time() * 1000)
    for position, figure in enumerate(figures):
        before = current.get((figure.series_code, figure.period))
        if before is not None and figure.same_as(before):
            unchanged += 1
            continue
        if before is not None and not revise:
            conflicts.append(
                Conflict(
                    position,
                    f"{figure.period.key} is already published as {_shown(before)}; send it as a revision "
                    "(revise=true) to keep both",
                )
            )
            continue
        row = _row(figure, 0 if before is None else before.revision + 1, now, actor)
        rows.append(row)
        if before is None:
            stored += 1
        else:
            revisions.append((row, before))
    if conflicts:
        raise FiguresRefused(conflicts)
    if rows:
        conn.execute(insert(values), rows)
    for row, before in revisions:
        target = f"economy_value:{before.series_code}:{before.period.key}"
        audit.record(conn, actor, "economy_value.revise", target, before.to_dict(), row)
    return Outcome(stored, len(revisions), unchanged)


def in_force(conn: Connection, keys: Iterable[tuple[str, Period]]) -> dict[tuple[str, Period], Figure]:
    """The newest revision of each (series, period) among `keys` that has one."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, Period], Figure] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        condition = tuple_(
            values.c.series_code, values.c.year, values.c.first_month, values.c.last_month
        ).in_([(code, p.year, p.first_month, p.last_month) for code, p in chunk])
        for row in conn.execute(_newest().where(condition)):
            figure = Figure.from_row(row)
            found[(figure.series_code, figure.period)] = figure
    return found


def series_in_force(conn: Connection, series_code: str) -> dict[Period, Figure]:
    """Every period of a series with its figure in force."""
    rows = conn.execute(_newest().where(values.c.series_code == series_code))
    return {figure.period: figure for figure in map(Figure.from_row, rows)}


def history(conn: Connection, series_code: str, period: Period) -> list[Figure]:
    """Every revision of one figure, oldest first."""
    query = (
        select(values)
        .where(
            values.c.series_code == series_code,
            values.c.year == period.year,
            values.c.first_month == period.first_month,
            values.c.last_month == period.last_month,
        )
        .order_by(values.c.revision)
    )
    return [Figure.from_row(row) for row in conn.execute(query)]


def _newest() -> Any:
    newest = (
        select(
            values.c.series_code,
            values.c.year,
            values.c.first_month,
            values.c.last_month,
            func.max(values.c.revision).label("revision"),
        )
        .group_by(values.c.series_code, values.c.year, values.c.first_month, values.c.last_month)
        .subquery()
    )
    return select(values).join(
        newest,
        and_(
            values.c.series_code == newest.c.series_code,
            values.c.year == newest.c.year,
            values.c.first_month == newest.c.first_month,
            values.c.last_month == newest.c.last_month,
            values.c.revision == newest.c.revision,
        ),
    )


def _shown(figure: Figure) -> str:
    parts = []
    if figure.value is not None:
        parts.append(f"value {figure.value:g}")
    if figure.change_pct is not None:
        parts.append(f"change {figure.change_pct:+g} %")
    return " and ".join(parts) or "nothing"


def _row(figure: NewFigure, revision: int, now: int, actor: str) -> dict[str, Any]:
    return {
        "series_code": figure.series_code,
        "year": figure.period.year,
        "first_month": figure.period.first_month,
        "last_month": figure.period.last_month,
        "revision": revision,
        "value": figure.value,
        "change_pct": figure.change_pct,
        "qualifier": figure.qualifier,
        "source": figure.source,
        "simulated": figure.simulated,
        "note": figure.note,
        "recorded_ms": now,
        "recorded_by": actor,
    }
