"""The index accumulator persisted beside the dossiers, so a server starts without recomputing it.

Every transaction that changes dossiers (an import, an event batch, ratings) adds one to
`services_generation` in that same transaction (`bump_generation`). A snapshot records the generation it
was taken at, with the number of stored dossiers and the highest dossier id; at start it is used only if
all three still hold and it was made with this code's layout (format, period kinds, counters) — otherwise
the accumulator is recomputed from the dossiers. A snapshot is taken by the one writer, after its commit
and once the accumulator holds that commit's changes, so the generation it records is the accumulator's.
A crash between the commit and the snapshot leaves a stale snapshot, which the generation reveals.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update

from cityops.services.index import accumulator as acc_module
from cityops.services.index.accumulator import IndexAccumulator
from cityops.services.schema import dossiers, generation, index_snapshot
from cityops.services.timing.periods import Period, PeriodKind, from_timestamp

FORMAT = 1
_ROW = 1


def layout(kinds: Sequence[PeriodKind]) -> str:
    """What a snapshot must have been made with to be read back by this code."""
    described = orjson.dumps([FORMAT, list(kinds), list(acc_module._NAMES)])
    return hashlib.sha256(described).hexdigest()[:32]


def bump_generation(conn: Connection) -> int:
    """Count one more change to the dossiers, in `conn`'s transaction; the new generation."""
    changed = conn.execute(
        update(generation).where(generation.c.id == _ROW).values(generation=generation.c.generation + 1)
    )
    if not changed.rowcount:
        conn.execute(insert(generation).values(id=_ROW, generation=1))
    return current_generation(conn)


def current_generation(conn: Connection) -> int:
    found = conn.execute(select(generation.c.generation).where(generation.c.id == _ROW)).scalar()
    return int(found or 0)


@dataclass(frozen=True, slots=True)
class StoreMark:
    """What a snapshot is checked against: the generation, the dossiers stored, the highest id."""

    generation: int
    dossiers: int
    last_id: int


def store_mark(conn: Connection) -> StoreMark:
    count, last = conn.execute(select(func.count(), func.coalesce(func.max(dossiers.c.id), 0))).one()
    return StoreMark(current_generation(conn), int(count), int(last))


def dump(accumulator: IndexAccumulator) -> bytes:
    """The accumulator's state as compressed JSON."""
    fixed = [[scope, kind, index, vector] for (scope, kind, index), vector in accumulator._fixed.items()]
    live = [
        [
            scope,
            sorted(stock.by_hour.items()),
            stock.no_due,
            stock.supplement_on_time,
            stock.supplement_late,
            stock.total,
        ]
        for scope, stock in accumulator._live.items()
    ]
    state = {"clock": accumulator._clock, "kinds": accumulator.kinds, "fixed": fixed, "live": live}
    return zlib.compress(orjson.dumps(state), 1)


def load(data: bytes) -> IndexAccumulator:
    """An accumulator in the state `dump` saved."""
    state: dict[str, Any] = orjson.loads(zlib.decompress(data))
    accumulator = IndexAccumulator(from_timestamp(state["clock"]), tuple(state["kinds"]))
    accumulator._current = {kind: Period.at(kind, state["clock"]).index for kind in accumulator.kinds}
    accumulator._fixed = {(scope, kind, index): vector for scope, kind, index, vector in state["fixed"]}
    for scope, by_hour, no_due, on_time, late, total in state["live"]:
        stock = accumulator._live[scope] = acc_module._LiveStock()
        stock.by_hour = {hour: count for hour, count in by_hour}
        stock.no_due, stock.supplement_on_time, stock.supplement_late = no_due, on_time, late
        stock.total = total
    return accumulator


def save(conn: Connection, accumulator: IndexAccumulator, mark: StoreMark, saved_ms: int) -> None:
    conn.execute(delete(index_snapshot))
    conn.execute(
        insert(index_snapshot).values(
            id=_ROW,
            layout=layout(accumulator.kinds),
            generation=mark.generation,
            dossiers=mark.dossiers,
            last_id=mark.last_id,
            state=dump(accumulator),
            saved_ms=saved_ms,
        )
    )


def restore(conn: Connection, kinds: Sequence[PeriodKind]) -> tuple[IndexAccumulator | None, str]:
    """The saved accumulator if it is still valid for the stored dossiers (else None), and why not."""
    row = conn.execute(select(index_snapshot).where(index_snapshot.c.id == _ROW)).one_or_none()
    if row is None:
        return None, "no snapshot"
    if row.layout != layout(kinds):
        return None, "made by another version"
    mark = store_mark(conn)
    if (row.generation, row.dossiers, row.last_id) != (mark.generation, mark.dossiers, mark.last_id):
        return None, f"stale: generation {row.generation}, the dossiers are at {mark.generation}"
    return load(row.state), "valid"
