"""Reporting periods and the epoch-second helpers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import PERIOD_KINDS, Period, PeriodKind, day_start, local_day, timestamp

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(st.sampled_from(PERIOD_KINDS), days)
def test_a_period_contains_its_day_and_the_next_starts_where_it_ends(kind: PeriodKind, day: date) -> None:
    period = Period.of(kind, day)
    assert period.contains(day)
    assert period.next().start == period.end
    assert Period.parse(period.key) == period
    assert Period.at(kind, period.start_ts) == period
    assert Period.at(kind, period.end_ts - 1) == period


@given(days)
def test_local_day_boundaries_are_vietnam_midnight(day: date) -> None:
    midnight = datetime.combine(day, datetime.min.time(), VN_TZ)
    assert day_start(day.toordinal()) == timestamp("t", midnight)
    assert local_day(timestamp("t", midnight)) == day.toordinal()
    assert local_day(timestamp("t", midnight - timedelta(seconds=1))) == day.toordinal() - 1


def test_keys_and_months() -> None:
    assert Period.parse("2025-Q3").start == date(2025, 7, 1)
    assert Period.parse("2025-Q3").end == date(2025, 10, 1)
    assert [m.key for m in Period.parse("2025-Q1").months()] == ["2025-01", "2025-02", "2025-03"]
    assert len(Period.parse("2024").months()) == 12
    assert Period.parse("2024").days == 366


@pytest.mark.parametrize("text", ["2025-13", "25", "2025-Q5", "2025/03", ""])
def test_bad_period_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"period: .* is not a year"):
        Period.parse(text)
