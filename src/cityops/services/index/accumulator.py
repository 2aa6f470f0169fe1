"""Dossier counters per scope (province, area, agency) and period, kept up to date one dossier change at
a time, so an index for a province-year is read from a few dozen integers, never by rescanning dossiers.

State = Σ over dossiers of their contribution, a pure function of (facts, clock):
- for each period from the one of receipt to the one of its end (or the running one while open), the
  counters of its `PeriodClass` (receipt counters, backlog, finished/stopped buckets, open buckets);
- for a dossier still open, its bucket in the *running* period depends on the clock (it becomes overdue
  as time passes without any event), so it is kept aside in a per-scope "live stock" keyed by the hour
  of its due date and classified when read.
`update(old, new)` removes the old facts' contribution and adds the new one. Moving the clock into a new
period ("roll") turns the live stock into the ended period's open buckets and the next period's backlog.
`recompute` folds every dossier's contribution at one clock: the property tests check that it equals
any sequence of updates and rolls.

Reads cost O(counters + distinct due hours of the scope's open dossiers); updates O(periods spanned).
The clock counts whole hours; events recorded later than the clock move it forward.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from cityops.services.dossiers.classification import (
    COMPLAINED,
    DIGITISED,
    ELECTRONIC_RESULT,
    FEE,
    NATIONAL_STORE,
    ONLINE,
    ONLINE_FULL,
    ONLINE_PARTIAL,
    PAID_ONLINE,
    POSTAL,
    RATED,
    REUSED,
    SATISFIED,
    SUPPLEMENTS_ON_TIME,
    SYNCED,
    VNEID,
    Bucket,
    DossierFacts,
    EndKind,
    PeriodClass,
    classify_facts,
    facts_of,
    open_bucket,
)
from cityops.services.dossiers.model import Dossier
from cityops.services.timing.periods import (
    HOUR_S,
    PERIOD_KINDS,
    Period,
    PeriodKind,
    from_timestamp,
    local_day,
    timestamp,
)

PROVINCE = "province"


def area_scope(code: str) -> str:
    return f"area:{code}"


def agency_scope(code: str) -> str:
    return f"agency:{code}"


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Counts for one scope and period. Receipt counters count dossiers received in the period;
    bucket counters follow `classification`."""

    received: int = 0
    online: int = 0
    postal: int = 0
    online_partial: int = 0
    online_full: int = 0
    digitised: int = 0
    reused: int = 0
    national_store: int = 0
    online_vneid: int = 0
    synced: int = 0
    fee: int = 0
    paid_online: int = 0
    rated: int = 0
    satisfied: int = 0
    complained: int = 0
    carried_over: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    processed: int = 0
    withdrawn: int = 0
    refused: int = 0
    electronic_result: int = 0
    processing_seconds: int = 0
    stopped: int = 0
    within_time: int = 0
    due_soon: int = 0
    overdue: int = 0
    supplement_on_time: int = 0
    supplement_late: int = 0

    @property
    def finished(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def open(self) -> int:
        return (
            self.within_time + self.due_soon + self.overdue + self.supplement_on_time + self.supplement_late
        )

    @property
    def timeliness_total(self) -> int:
        """Dossiers judged on time or late: every one in scope but the stopped ones."""
        return self.finished + self.open

    @property
    def timely(self) -> int:
        return self.early + self.on_time + self.within_time + self.due_soon + self.supplement_on_time

    @property
    def late_total(self) -> int:
        return self.late + self.overdue + self.supplement_late

    @property
    def in_scope(self) -> int:
        """received + backlog = finished + open + stopped."""
        return self.received + self.carried_over


_NAMES = tuple(f.name for f in fields(Aggregates))
_INDEX = {name: i for i, name in enumerate(_NAMES)}
_SIZE = len(_NAMES)
_RECEIVED, _CARRIED_OVER = _INDEX["received"], _INDEX["carried_over"]
_RECEIPT_COUNTERS = tuple(
    (bit, _INDEX[name])
    for bit, name in (
        (ONLINE, "online"),
        (POSTAL, "postal"),
        (ONLINE_PARTIAL, "online_partial"),
        (ONLINE_FULL, "online_full"),
        (DIGITISED, "digitised"),
        (REUSED, "reused"),
        (NATIONAL_STORE, "national_store"),
        (VNEID, "online_vneid"),
        (SYNCED, "synced"),
        (FEE, "fee"),
        (PAID_ONLINE, "paid_online"),
        (RATED, "rated"),
        (SATISFIED, "satisfied"),
        (COMPLAINED, "complained"),
    )
)
_BUCKET = {
    Bucket.EARLY: _INDEX["early"],
    Bucket.ON_TIME: _INDEX["on_time"],
    Bucket.LATE: _INDEX["late"],
    Bucket.WITHIN_TIME: _INDEX["within_time"],
    Bucket.DUE_SOON: _INDEX["due_soon"],
    Bucket.OVERDUE: _INDEX["overdue"],
    Bucket.STOPPED: _INDEX["stopped"],
}
_END = {
    EndKind.PROCESSED: _INDEX["processed"],
    EndKind.WITHDRAWN: _INDEX["withdrawn"],
    EndKind.REFUSED: _INDEX["refused"],
}
_SUPPLEMENT_ON_TIME, _SUPPLEMENT_LATE = _INDEX["supplement_on_time"], _INDEX["supplement_late"]
_ELECTRONIC_RESULT, _PROCESSING_SECONDS = _INDEX["electronic_result"], _INDEX["processing_seconds"]


_RECEIPT_BY_FLAGS: dict[int, list[tuple[int, int]]] = {}


def _receipt(flags: int) -> list[tuple[int, int]]:
    """(counter, 1) pairs of a dossier received in the period, memoised per flag mask."""
    found = _RECEIPT_BY_FLAGS.get(flags)
    if found is None:
        found = [(_RECEIVED, 1)] + [(index, 1) for bit, index in _RECEIPT_COUNTERS if flags & bit]
        _RECEIPT_BY_FLAGS[flags] = found
    return found


def _counters(facts: DossierFacts, cls: PeriodClass, live: bool) -> list[tuple[int, int]]:
    """(counter, amount) pairs of one dossier in one period; `live` leaves its open bucket to the live stock."""
    out = list(_receipt(facts.flags)) if cls.received_in_period else [(_CARRIED_OVER, 1)]
    if cls.end_kind is not EndKind.OPEN:
        out.append((_BUCKET[cls.bucket], 1))
        if cls.end_kind is not EndKind.STOPPED:
            out.append((_END[cls.end_kind], 1))
        if cls.end_kind is EndKind.PROCESSED and facts.end is not None:
            out.append((_PROCESSING_SECONDS, facts.end - facts.received))
            if facts.flags & ELECTRONIC_RESULT:
                out.append((_ELECTRONIC_RESULT, 1))
    elif not live:
        if cls.bucket is Bucket.SUPPLEMENT:
            out.append((_SUPPLEMENT_ON_TIME if cls.timely else _SUPPLEMENT_LATE, 1))
        else:
            out.append((_BUCKET[cls.bucket], 1))
    return out


class _LiveStock:
    """The open dossiers of one scope, by the hour of their due date (or waiting for the citizen)."""

    __slots__ = ("by_hour", "no_due", "supplement_late", "supplement_on_time", "total")

    def __init__(self) -> None:
        self.by_hour: dict[int, int] = {}
        self.no_due = self.supplement_on_time = self.supplement_late = self.total = 0

    def add(self, facts: DossierFacts, sign: int) -> None:
        count, waiting = facts.supplements_before(None)
        if waiting:
            if count <= SUPPLEMENTS_ON_TIME:
                self.supplement_on_time += sign
            else:
                self.supplement_late += sign
        elif facts.due is None:
            self.no_due += sign
        else:
            hour = facts.due // HOUR_S
            left = self.by_hour.get(hour, 0) + sign
            if left:
                self.by_hour[hour] = left
            else:
                del self.by_hour[hour]
        self.total += sign

    def buckets(self, reference: int) -> tuple[int, int, int]:
        """(within time, due soon, overdue) seen at `reference`, a whole hour."""
        counts = [0, 0, 0]
        for hour, count in self.by_hour.items():
            counts[open_bucket(hour * HOUR_S, reference) - Bucket.WITHIN_TIME] += count
        return counts[0] + self.no_due, counts[1], counts[2]

    def state(self) -> tuple[Any, ...]:
        return (
            tuple(sorted(self.by_hour.items())),
            self.no_due,
            self.supplement_on_time,
            self.supplement_late,
        )


class IndexAccumulator:
    def __init__(self, clock: datetime, kinds: Sequence[PeriodKind] = ("year", "month")) -> None:
        unknown = [k for k in kinds if k not in PERIOD_KINDS]
        if unknown or not kinds or len(set(kinds)) != len(kinds):
            raise ValueError(f"kinds: {list(kinds)} must be distinct values among {list(PERIOD_KINDS)}")
        self.kinds = tuple(kinds)
        self._clock = timestamp("clock", clock) // HOUR_S * HOUR_S
        self._current = {kind: Period.at(kind, self._clock).index for kind in self.kinds}
        self._fixed: dict[tuple[str, PeriodKind, int], list[int]] = {}
        self._live: dict[str, _LiveStock] = {}
        self._bounds: dict[tuple[PeriodKind, int], tuple[int, int]] = {}
        self._period_of_day: dict[tuple[PeriodKind, int], int] = {}

    @property
    def clock(self) -> datetime:
        return from_timestamp(self._clock)

    def advance(self, now: datetime) -> None:
        """Move the clock forward to `now` (whole hours), rolling every period that ends on the way."""
        ts = timestamp("now", now)
        if ts < self._clock:
            raise ValueError(
                f"now: {now.isoformat()} is before the accumulator's clock {self.clock.isoformat()}"
            )
        self._advance_to(ts)

    def update(self, old: DossierFacts | None, new: DossierFacts | None) -> None:
        """Replace a dossier's contribution: `old` as last given (None if new), `new` (None if deleted)."""
        if new is not None and new.latest >= self._clock + HOUR_S:
            self._advance_to(new.latest)
        if old is not None:
            self._apply(old, -1)
        if new is not None:
            self._apply(new, 1)

    def aggregates(self, scope: str = PROVINCE, period: Period | str | None = None) -> Aggregates:
        """Counts of `scope` for `period` (default: the running period of the first kind kept)."""
        if period is None:
            period = Period(self.kinds[0], self._current[self.kinds[0]])
        elif isinstance(period, str):
            period = Period.parse(period)
        if period.kind not in self.kinds:
            raise ValueError(f"period: {period.key} is a {period.kind}; this index keeps {list(self.kinds)}")
        counts = list(self._fixed.get((scope, period.kind, period.index), ()) or [0] * _SIZE)
        live = self._live.get(scope)
        if period.index == self._current[period.kind] and live is not None:
            within, soon, overdue = live.buckets(self._clock)
            counts[_BUCKET[Bucket.WITHIN_TIME]] += within
            counts[_BUCKET[Bucket.DUE_SOON]] += soon
            counts[_BUCKET[Bucket.OVERDUE]] += overdue
            counts[_SUPPLEMENT_ON_TIME] += live.supplement_on_time
            counts[_SUPPLEMENT_LATE] += live.supplement_late
        return Aggregates(*counts)

    def scopes(self, prefix: str = "") -> list[str]:
        """Scopes with any count, e.g. `scopes("agency:")` for an agency ranking."""
        found = {key[0] for key in self._fixed} | set(self._live)
        return sorted(s for s in found if s.startswith(prefix))

    def state(
        self,
    ) -> tuple[int, dict[tuple[str, PeriodKind, int], tuple[int, ...]], dict[str, tuple[Any, ...]]]:
        """Everything the accumulator holds, without empty entries: equal states read equal indices."""
        fixed = {key: tuple(v) for key, v in self._fixed.items() if any(v)}
        live = {scope: stock.state() for scope, stock in self._live.items() if stock.total or stock.by_hour}
        return self._clock, fixed, live

    # -- internals --------------------------------------------------------------------------------------

    def _bounds_of(self, kind: PeriodKind, index: int) -> tuple[int, int]:
        bounds = self._bounds.get((kind, index))
        if bounds is None:
            period = Period(kind, index)
            bounds = self._bounds[(kind, index)] = (period.start_ts, period.end_ts)
        return bounds

    def _vector(self, scope: str, kind: PeriodKind, index: int) -> list[int]:
        vector = self._fixed.get((scope, kind, index))
        if vector is None:
            vector = self._fixed[(scope, kind, index)] = [0] * _SIZE
        return vector

    def _period_index(self, kind: PeriodKind, ts: int) -> int:
        key = (kind, local_day(ts))
        index = self._period_of_day.get(key)
        if index is None:
            index = self._period_of_day[key] = Period.at(kind, ts).index
        return index

    def _apply(self, facts: DossierFacts, sign: int) -> None:
        scopes = (PROVINCE, area_scope(facts.area), agency_scope(facts.agency))
        clock = self._clock
        for kind in self.kinds:
            current = self._current[kind]
            first = self._period_index(kind, facts.received)
            last = current if facts.end is None else self._period_index(kind, facts.end)
            for index in range(first, last + 1):
                start, end = self._bounds_of(kind, index)
                cls = classify_facts(facts, start, end, clock)
                if cls is None:
                    continue
                vectors = [self._vector(scope, kind, index) for scope in scopes]
                for counter, amount in _counters(facts, cls, live=facts.end is None and index == current):
                    delta = sign * amount
                    for vector in vectors:
                        vector[counter] += delta
        if facts.end is None:
            for scope in scopes:
                stock = self._live.get(scope)
                if stock is None:
                    stock = self._live[scope] = _LiveStock()
                stock.add(facts, sign)

    def _advance_to(self, ts: int) -> None:
        hour = ts // HOUR_S * HOUR_S
        if hour <= self._clock:
            return
        for kind in self.kinds:
            target = Period.at(kind, hour).index
            for index in range(self._current[kind], target):
                _, end = self._bounds_of(kind, index)
                for scope, stock in self._live.items():
                    if stock.total:
                        self._roll(scope, stock, kind, index, end)
            self._current[kind] = target
        self._clock = hour

    def _roll(self, scope: str, stock: _LiveStock, kind: PeriodKind, index: int, end: int) -> None:
        """Period `index` ends with `stock` still open: fix its open buckets, carry it into the next."""
        ended = self._vector(scope, kind, index)
        within, soon, overdue = stock.buckets(end)
        ended[_BUCKET[Bucket.WITHIN_TIME]] += within
        ended[_BUCKET[Bucket.DUE_SOON]] += soon
        ended[_BUCKET[Bucket.OVERDUE]] += overdue
        ended[_SUPPLEMENT_ON_TIME] += stock.supplement_on_time
        ended[_SUPPLEMENT_LATE] += stock.supplement_late
        self._vector(scope, kind, index + 1)[_CARRIED_OVER] += stock.total


def recompute(
    dossiers: Iterable[Dossier | DossierFacts],
    clock: datetime,
    kinds: Sequence[PeriodKind] = ("year", "month"),
) -> IndexAccumulator:
    """A fresh accumulator from every dossier at once (at `clock`, or later if an event is later)."""
    all_facts = list(_facts(dossiers))
    latest = max((f.latest for f in all_facts), default=0)
    if latest > timestamp("clock", clock):
        clock = from_timestamp(latest)
    accumulator = IndexAccumulator(clock, kinds)
    for facts in all_facts:
        accumulator._apply(facts, 1)
    return accumulator


def _facts(dossiers: Iterable[Dossier | DossierFacts]) -> Iterator[DossierFacts]:
    for item in dossiers:
        facts = facts_of(item) if isinstance(item, Dossier) else item
        if facts is not None:
            yield facts
