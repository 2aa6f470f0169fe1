"""Adding many dossiers to an `IndexAccumulator` at once, with numpy.

`IndexAccumulator.update` costs ~40 µs a dossier (one `PeriodClass` per period and kind, counters added
one by one); a bulk import or a full recomputation adds millions. Here the same contributions are
computed on arrays — period indices, buckets, counters — and summed per (scope, period) before they
touch the accumulator, so the cost is a few array passes per kind and period offset.

A supplement request matters only to the periods a dossier stays open across (waiting for the citizen at
a period's end); so the dossiers without one, and those that ended in their month of receipt, take this
path (`FactsColumns.from_facts` leaves the others aside for `update`). The property tests check that the
state reached equals the one-by-one updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cityops.services.dossiers.classification import (
    DUE_SOON_S,
    ELECTRONIC_RESULT,
    Bucket,
    DossierFacts,
    EndKind,
)
from cityops.services.index import accumulator as acc_module
from cityops.services.index.accumulator import PROVINCE, IndexAccumulator, agency_scope, area_scope
from cityops.services.timing.periods import DAY_S, HOUR_S, VN_OFFSET_S, PeriodKind

Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
NONE = -1  # no due date / no end
_I = acc_module._INDEX
_SIZE = acc_module._SIZE
_BUCKET = acc_module._BUCKET
_END = acc_module._END
_RECEIPT = acc_module._RECEIPT_COUNTERS


@dataclass(frozen=True)
class FactsColumns:
    """The facts of many dossiers without supplement requests, one array per field."""

    agency: list[str]
    area: list[str]
    received: Int64s
    due: Int64s  # NONE when there is none
    end: Int64s  # NONE while open
    end_kind: Int64s
    flags: Int64s
    latest: Int64s  # the newest event each dossier records (supplement requests included): moves the clock

    def __len__(self) -> int:
        return len(self.received)

    @classmethod
    def from_facts(cls, facts: Iterable[DossierFacts]) -> tuple[FactsColumns, list[DossierFacts]]:
        """(the facts this path takes, as columns; the others as they are)."""
        items = list(facts)
        columns = cls.of(items)
        with_request = np.array([bool(f.supplements) for f in items], dtype=np.bool_)
        take = ~with_request | same_month(columns.received, columns.end)
        others = [f for f, t in zip(items, take.tolist(), strict=True) if not t]
        return columns.subset(take), others

    def subset(self, rows: Bools) -> FactsColumns:
        chosen = rows.tolist()
        return FactsColumns(
            agency=[a for a, keep in zip(self.agency, chosen, strict=True) if keep],
            area=[a for a, keep in zip(self.area, chosen, strict=True) if keep],
            received=self.received[rows],
            due=self.due[rows],
            end=self.end[rows],
            end_kind=self.end_kind[rows],
            flags=self.flags[rows],
            latest=self.latest[rows],
        )

    @classmethod
    def of(cls, plain: Sequence[DossierFacts]) -> FactsColumns:
        return cls(
            agency=[f.agency for f in plain],
            area=[f.area for f in plain],
            received=np.array([f.received for f in plain], dtype=np.int64),
            due=np.array([NONE if f.due is None else f.due for f in plain], dtype=np.int64),
            end=np.array([NONE if f.end is None else f.end for f in plain], dtype=np.int64),
            end_kind=np.array([int(f.end_kind) for f in plain], dtype=np.int64),
            flags=np.array([f.flags for f in plain], dtype=np.int64),
            latest=np.array([f.latest for f in plain], dtype=np.int64),
        )


def same_month(received: Int64s, end: Int64s) -> Bools:
    """Ended in the (local) month it was received."""
    months = _period_index("month", received)
    ended: Bools = (end != NONE) & (_period_index("month", np.where(end == NONE, received, end)) == months)
    return ended


def add_columns(accumulator: IndexAccumulator, columns: FactsColumns) -> None:
    """Add the dossiers of `columns` (none of them already in the accumulator)."""
    n = len(columns)
    if not n:
        return
    latest = int(columns.latest.max())
    if latest >= accumulator._clock + HOUR_S:
        accumulator._advance_to(latest)
    scope_names, scope_rows = _scopes(columns)
    has_end = columns.end != NONE
    for kind in accumulator.kinds:
        current = accumulator._current[kind]
        first = _period_index(kind, columns.received)
        last = np.where(has_end, _period_index(kind, np.where(has_end, columns.end, 0)), current)
        span = last - first
        for step in range(int(span.max()) + 1):
            rows = np.nonzero(span >= step)[0]
            index = first[rows] + step
            counts = _contributions(accumulator, kind, columns, rows, index, step == 0, last[rows], current)
            _add_grouped(accumulator, kind, scope_names, scope_rows[:, rows], index, counts)
    _add_live(accumulator, columns, scope_names, scope_rows, ~has_end)


def _scopes(columns: FactsColumns) -> tuple[list[str], Int64s]:
    """The scope names, and for each dossier the row of its province, area and agency scopes."""
    areas = {code: i for i, code in enumerate(dict.fromkeys(columns.area))}
    agencies = {code: i for i, code in enumerate(dict.fromkeys(columns.agency))}
    names = [PROVINCE, *(area_scope(a) for a in areas), *(agency_scope(a) for a in agencies)]
    rows = np.vstack(
        [
            np.zeros(len(columns), dtype=np.int64),
            1 + np.array([areas[a] for a in columns.area], dtype=np.int64),
            1 + len(areas) + np.array([agencies[a] for a in columns.agency], dtype=np.int64),
        ]
    )
    return names, rows


def _period_index(kind: PeriodKind, ts: Int64s) -> Int64s:
    days = ((ts + VN_OFFSET_S) // DAY_S).astype("datetime64[D]")
    if kind == "year":
        return days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return months // 3 if kind == "quarter" else months


Counts = dict[int, npt.NDArray[np.int64] | Bools]  # counter -> amount per selected dossier


def _contributions(
    accumulator: IndexAccumulator,
    kind: PeriodKind,
    c: FactsColumns,
    rows: Int64s,
    index: Int64s,
    received_in: bool,
    last: Int64s,
    current: int,
) -> Counts:
    """Counter amounts of each selected dossier in period `index`."""
    counts: Counts = {}
    flags = c.flags[rows]
    ones = np.ones(len(rows), dtype=np.bool_)
    if received_in:
        counts[_I["received"]] = ones
        for bit, column in _RECEIPT:
            counts[column] = (flags & bit) != 0
    else:
        counts[_I["carried_over"]] = ones
    end, due, end_kind = c.end[rows], c.due[rows], c.end_kind[rows]
    ends_here = (end != NONE) & (index == last)
    no_due = due == NONE
    if ends_here.any():
        stopped = ends_here & (end_kind == EndKind.STOPPED)
        timed = ends_here & ~stopped
        end_day = (end + VN_OFFSET_S) // DAY_S
        due_day = (due + VN_OFFSET_S) // DAY_S
        counts[_BUCKET[Bucket.STOPPED]] = stopped
        counts[_BUCKET[Bucket.ON_TIME]] = timed & (no_due | (end_day == due_day))
        counts[_BUCKET[Bucket.EARLY]] = timed & ~no_due & (end_day < due_day)
        counts[_BUCKET[Bucket.LATE]] = timed & ~no_due & (end_day > due_day)
        for end_kind_value, column in _END.items():
            counts[column] = ends_here & (end_kind == end_kind_value)
        processed = counts[_END[EndKind.PROCESSED]]
        counts[_I["processing_seconds"]] = np.where(processed, end - c.received[rows], 0)
        counts[_I["electronic_result"]] = processed & ((flags & ELECTRONIC_RESULT) != 0)
    open_past = ~ends_here & ~((end == NONE) & (index == current))
    if open_past.any():
        low = int(index.min())
        ends = np.array(
            [accumulator._bounds_of(kind, i)[1] for i in range(low, int(index.max()) + 1)], dtype=np.int64
        )
        stop = ends[index - low]
        within = no_due | (due >= stop + DUE_SOON_S)
        soon = ~within & (due >= stop)
        counts[_BUCKET[Bucket.WITHIN_TIME]] = open_past & within
        counts[_BUCKET[Bucket.DUE_SOON]] = open_past & soon
        counts[_BUCKET[Bucket.OVERDUE]] = open_past & ~within & ~soon
    return counts


def _add_grouped(
    accumulator: IndexAccumulator,
    kind: PeriodKind,
    scope_names: list[str],
    scope_rows: Int64s,
    index: Int64s,
    counts: Counts,
) -> None:
    """Sum the counts per (scope, period) and add the sums to the accumulator's vectors."""
    low = int(index.min())
    width = int(index.max()) - low + 1
    used = [(column, amounts) for column, amounts in counts.items() if amounts.any()]
    for rows_of_scope in scope_rows:
        keys = rows_of_scope * width + (index - low)
        size = int(keys.max()) + 1
        present = np.nonzero(np.bincount(keys, minlength=size))[0]
        # Float weights add exactly below 2**53 (processing seconds of millions of dossiers stay far below).
        sums = np.vstack([np.bincount(keys, weights=amounts, minlength=size)[present] for _, amounts in used])
        columns = [column for column, _ in used]
        for key, totals in zip(present.tolist(), sums.T.astype(np.int64).tolist(), strict=True):
            scope, offset = divmod(key, width)
            vector = accumulator._vector(scope_names[scope], kind, low + offset)
            for column, amount in zip(columns, totals, strict=True):
                if amount:
                    vector[column] += amount


def _add_live(
    accumulator: IndexAccumulator,
    c: FactsColumns,
    scope_names: list[str],
    scope_rows: Int64s,
    open_rows: Bools,
) -> None:
    """Open dossiers join each of their scopes' live stock, by the hour of their due date."""
    if not open_rows.any():
        return
    due = c.due[open_rows]
    hours = np.where(due == NONE, NONE, due // HOUR_S)
    for rows_of_scope in scope_rows:
        pairs = np.stack([rows_of_scope[open_rows], hours], axis=1)
        unique, counts = np.unique(pairs, axis=0, return_counts=True)
        for (scope, hour), count in zip(unique.tolist(), counts.tolist(), strict=True):
            name = scope_names[scope]
            stock = accumulator._live.get(name)
            if stock is None:
                stock = accumulator._live[name] = acc_module._LiveStock()
            if hour == NONE:
                stock.no_due += count
            else:
                stock.by_hour[hour] = stock.by_hour.get(hour, 0) + count
            stock.total += count
