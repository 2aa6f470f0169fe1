"""The incremental index accumulator: any sequence of dossier updates and clock moves ends in the state a
full recomputation gives, and what it reads agrees with classifying each dossier on its own."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.services.dossiers.classification import (
    ELECTRONIC_RESULT,
    ONLINE,
    Bucket,
    DossierFacts,
    EndKind,
    classify_facts,
)
from cityops.services.index.accumulator import PROVINCE, IndexAccumulator, agency_scope, area_scope, recompute
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import HOUR_S, Period, from_timestamp, timestamp

BASE = timestamp("base", datetime(2024, 11, 1, tzinfo=VN_TZ))


@dataclass
class History:
    versions: list[DossierFacts]  # successive facts of one dossier, each with a newer event


@st.composite
def histories(draw: st.DrawFn) -> History:
    """One dossier's life: receipt, supplement requests and answers, maybe an end, maybe a due change."""
    agency, area = draw(st.sampled_from([("A1", "X"), ("A2", "X"), ("A3", "Y")]))
    t = BASE + draw(st.integers(0, 200 * 24)) * HOUR_S + draw(st.integers(0, 3599))
    received = t
    due = draw(st.none() | st.integers(0, 40 * 24 * HOUR_S).map(lambda s: received + s))
    flags = draw(st.integers(0, (1 << 15) - 1)) & ~ELECTRONIC_RESULT
    base = DossierFacts(agency, area, received, due, None, EndKind.OPEN, (), flags)
    versions = [base]
    supplements: list[tuple[int, int | None]] = []
    for _ in range(draw(st.integers(0, 2))):
        t += draw(st.integers(1, 30 * 24 * HOUR_S))
        supplements.append((t, None))
        versions.append(versions[-1]._replace(supplements=tuple(supplements)))
        if draw(st.booleans()):
            t += draw(st.integers(0, 20 * 24 * HOUR_S))
            supplements[-1] = (supplements[-1][0], t)
            moved = versions[-1].due
            if moved is not None and draw(st.booleans()):
                moved += draw(st.integers(0, 5 * 24 * HOUR_S))
            versions.append(versions[-1]._replace(supplements=tuple(supplements), due=moved))
        else:
            break
    if draw(st.booleans()):
        t += draw(st.integers(0, 60 * 24 * HOUR_S))
        kind = draw(st.sampled_from([EndKind.PROCESSED, EndKind.WITHDRAWN, EndKind.REFUSED, EndKind.STOPPED]))
        extra = ELECTRONIC_RESULT if kind is EndKind.PROCESSED and draw(st.booleans()) else 0
        versions.append(versions[-1]._replace(end=t, end_kind=kind, flags=versions[-1].flags | extra))
    return History(versions)


def replay(stories: list[History], seed: int, deleted: set[int]) -> IndexAccumulator:
    """Apply every version as an update, roughly in time order with jitter (late arrivals across dossiers),
    moving the clock at random in between; then delete some dossiers."""
    rng = random.Random(seed)
    events = [
        (facts.latest + rng.randint(-3, 3) * 24 * HOUR_S, n, i)
        for n, story in enumerate(stories)
        for i, facts in enumerate(story.versions)
    ]
    events.sort()
    given_last: dict[int, DossierFacts] = {}
    given_index: dict[int, int] = {}
    accumulator = IndexAccumulator(from_timestamp(BASE - 40 * 24 * HOUR_S))
    for when, n, i in events:
        if given_index.get(n, -1) > i:
            continue  # an older version of this dossier arriving late: the store would not pass it on
        if rng.random() < 0.2 and when > timestamp("clock", accumulator.clock):
            accumulator.advance(from_timestamp(when))
        new = stories[n].versions[i]
        accumulator.update(given_last.get(n), new)
        given_last[n], given_index[n] = new, i
    for n in deleted:
        if n in given_last:
            accumulator.update(given_last.pop(n), None)
    if rng.random() < 0.5:
        accumulator.advance(accumulator.clock + timedelta(days=rng.randint(0, 90)))
    return accumulator


def final_facts(stories: list[History], deleted: set[int]) -> list[DossierFacts]:
    return [story.versions[-1] for n, story in enumerate(stories) if n not in deleted]


@settings(max_examples=60, deadline=None)
@given(st.lists(histories(), max_size=25), st.integers(0, 2**32), st.data())
def test_incremental_updates_equal_a_full_recomputation(
    stories: list[History], seed: int, data: st.DataObject
) -> None:
    deleted = set(data.draw(st.lists(st.integers(0, max(len(stories) - 1, 0)), max_size=3)))
    incremental = replay(stories, seed, deleted)
    full = recompute(final_facts(stories, deleted), incremental.clock, incremental.kinds)
    assert incremental.state() == full.state()


@settings(max_examples=60, deadline=None)
@given(st.lists(histories(), max_size=25), st.integers(0, 400 * 24))
def test_read_counts_equal_classifying_each_dossier(stories: list[History], clock_hours: int) -> None:
    facts = final_facts(stories, set())
    clock = from_timestamp(BASE + clock_hours * HOUR_S)
    accumulator = recompute(facts, clock)
    hour = timestamp("clock", accumulator.clock)
    current = Period.at("month", hour)
    for index in range(Period.at("month", BASE).index - 1, current.index + 1):
        period = Period("month", index)
        classes = [classify_facts(f, period.start_ts, period.end_ts, hour) for f in facts]
        found = [c for c in classes if c is not None]
        buckets = Counter(c.bucket for c in found)
        read = accumulator.aggregates(PROVINCE, period)
        assert read.received == sum(c.received_in_period for c in found)
        assert read.carried_over == sum(c.carried_over for c in found)
        assert read.finished == buckets[Bucket.EARLY] + buckets[Bucket.ON_TIME] + buckets[Bucket.LATE]
        assert (read.early, read.on_time, read.late) == (
            buckets[Bucket.EARLY],
            buckets[Bucket.ON_TIME],
            buckets[Bucket.LATE],
        )
        assert (read.within_time, read.due_soon, read.overdue) == (
            buckets[Bucket.WITHIN_TIME],
            buckets[Bucket.DUE_SOON],
            buckets[Bucket.OVERDUE],
        )
        assert read.stopped == buckets[Bucket.STOPPED]
        assert read.supplement_on_time + read.supplement_late == buckets[Bucket.SUPPLEMENT]
        assert read.timely == sum(c.timely is True for c in found)
        assert read.in_scope == read.finished + read.open + read.stopped
        assert read.online == sum(
            c.received_in_period and bool(f.flags & ONLINE) for f, c in zip(facts, classes, strict=True) if c
        )
        agencies = [accumulator.aggregates(agency_scope(a), period) for a in ("A1", "A2", "A3")]
        assert sum(a.received for a in agencies) == read.received
        assert sum(a.overdue for a in agencies) == read.overdue


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def test_an_open_dossier_becomes_overdue_and_rolls_into_the_next_month() -> None:
    accumulator = IndexAccumulator(vn(2025, 3, 10, 9))
    open_one = DossierFacts(
        "A1",
        "X",
        timestamp("r", vn(2025, 3, 3, 9)),
        timestamp("d", vn(2025, 3, 20, 9)),
        None,
        EndKind.OPEN,
        (),
        ONLINE,
    )
    accumulator.update(None, open_one)
    march = accumulator.aggregates(PROVINCE, "2025-03")
    assert (march.received, march.online, march.within_time, march.overdue) == (1, 1, 1, 0)
    accumulator.advance(vn(2025, 3, 19, 12))
    assert accumulator.aggregates(PROVINCE, "2025-03").due_soon == 1
    accumulator.advance(vn(2025, 4, 2, 8))
    march, april = accumulator.aggregates(PROVINCE, "2025-03"), accumulator.aggregates(PROVINCE, "2025-04")
    assert (march.overdue, march.within_time) == (1, 0)
    assert (april.carried_over, april.received, april.overdue) == (1, 0, 1)
    done = open_one._replace(end=timestamp("e", vn(2025, 4, 3, 10)), end_kind=EndKind.PROCESSED)
    accumulator.update(open_one, done)
    april = accumulator.aggregates(PROVINCE, "2025-04")
    assert (april.late, april.overdue, april.processed, april.carried_over) == (1, 0, 1, 1)
    assert accumulator.aggregates(PROVINCE, "2025-03").overdue == 1  # March stays as it ended
    year = accumulator.aggregates(area_scope("X"), "2025")
    assert (year.received, year.late, year.processing_seconds) == (1, 1, done.end - done.received)  # type: ignore[operator]
    assert accumulator.scopes("agency:") == ["agency:A1"]


def test_refusals() -> None:
    accumulator = IndexAccumulator(vn(2025, 3, 10, 9))
    with pytest.raises(ValueError, match=r"now: .* is before the accumulator's clock"):
        accumulator.advance(vn(2025, 3, 1))
    with pytest.raises(ValueError, match=r"period: 2025-Q1 is a quarter"):
        accumulator.aggregates(PROVINCE, "2025-Q1")
    with pytest.raises(ValueError, match=r"kinds"):
        IndexAccumulator(vn(2025, 3, 10), ("week",))  # type: ignore[arg-type]
