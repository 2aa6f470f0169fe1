"""Adding dossiers in bulk (numpy) reaches the state of adding them one by one."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.services.dossiers.classification import ELECTRONIC_RESULT, DossierFacts, EndKind
from cityops.services.index.accumulator import IndexAccumulator, recompute
from cityops.services.index.accumulator_batch import FactsColumns, add_columns
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import HOUR_S, from_timestamp, timestamp

BASE = timestamp("base", datetime(2024, 11, 1, tzinfo=VN_TZ))


@st.composite
def facts(draw: st.DrawFn) -> DossierFacts:
    agency, area = draw(st.sampled_from([("A1", "X"), ("A2", "X"), ("A3", "Y")]))
    received = BASE + draw(st.integers(-60 * 24, 300 * 24)) * HOUR_S + draw(st.integers(0, 3599))
    due = draw(st.none() | st.integers(0, 60 * 24 * HOUR_S).map(lambda s: received + s))
    flags = draw(st.integers(0, (1 << 15) - 1)) & ~ELECTRONIC_RESULT
    end, kind = None, EndKind.OPEN
    if draw(st.booleans()):
        end = received + draw(st.integers(0, 120 * 24 * HOUR_S))
        kind = draw(st.sampled_from([EndKind.PROCESSED, EndKind.WITHDRAWN, EndKind.REFUSED, EndKind.STOPPED]))
        if kind is EndKind.PROCESSED and draw(st.booleans()):
            flags |= ELECTRONIC_RESULT
    supplements: tuple[tuple[int, int | None], ...] = ()
    if draw(st.integers(0, 4)) == 0:
        requested = received + draw(st.integers(0, 10 * 24 * HOUR_S))
        supplements = ((requested, draw(st.none() | st.just(requested + 3 * 24 * HOUR_S))),)
    return DossierFacts(agency, area, received, due, end, kind, supplements, flags)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(facts(), max_size=40),
    st.lists(facts(), max_size=40),
    st.integers(-30 * 24, 400 * 24),
    st.sampled_from([("year", "month"), ("month", "quarter", "year"), ("quarter",)]),
)
def test_bulk_adding_equals_adding_one_by_one(
    first: list[DossierFacts], second: list[DossierFacts], clock_hours: int, kinds: tuple[str, ...]
) -> None:
    clock = from_timestamp(BASE + clock_hours * HOUR_S)
    one_by_one = IndexAccumulator(clock, kinds)  # type: ignore[arg-type]
    bulk = IndexAccumulator(clock, kinds)  # type: ignore[arg-type]
    for batch in (first, second):  # the second batch lands on counters the first one filled
        for item in batch:
            one_by_one.update(None, item)
        columns, others = FactsColumns.from_facts(batch)
        add_columns(bulk, columns)
        for item in others:
            bulk.update(None, item)
    assert bulk.state() == one_by_one.state()
    assert bulk.state() == recompute(first + second, bulk.clock, kinds).state()  # type: ignore[arg-type]
