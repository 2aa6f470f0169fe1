"""Due dates on arrays agree with the working calendar's, moment for moment."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.services.timing.calendar import VN_TZ, DayOverride, WorkingCalendar
from cityops.services.timing.due_dates import UNIT_CODES, DueDateArrays, duration_seconds

# A swapped Saturday and an extra day off, so the arrays must follow the overrides too.
CALENDAR = WorkingCalendar(
    [
        DayOverride(day=date(2025, 4, 26), working=True, reason="làm bù"),
        DayOverride(day=date(2025, 9, 3), working=False, reason="nghỉ thêm"),
    ]
)
ARRAYS = DueDateArrays(CALENDAR, 2025, 2025)
START = datetime(2023, 1, 1, tzinfo=VN_TZ)

terms = st.one_of(
    st.tuples(st.sampled_from([0.5, 1, 2, 3, 5, 7, 10, 15, 20, 30, 45]), st.just("working_days")),
    st.tuples(st.sampled_from([1, 2, 4, 8, 12, 16, 40]), st.just("working_hours")),
    st.tuples(st.integers(0, 90), st.just("calendar_days")),
)
moments = st.integers(0, 5 * 366 * 24 * 3600).map(lambda s: START + timedelta(seconds=s))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(moments, terms), min_size=1, max_size=30))
def test_array_due_dates_equal_the_calendars(cases: list[tuple[datetime, tuple[float, str]]]) -> None:
    received = np.array([int(moment.timestamp()) for moment, _ in cases], dtype=np.int64)
    amount = np.array([duration_seconds(CALENDAR, a, u) for _, (a, u) in cases], dtype=np.int64)  # type: ignore[arg-type]
    unit = np.array([UNIT_CODES[u] for _, (_, u) in cases], dtype=np.int64)  # type: ignore[index]
    expected = [int(CALENDAR.due_after(m, a, u).timestamp()) for m, (a, u) in cases]  # type: ignore[arg-type]
    assert ARRAYS.due(received, amount, unit).tolist() == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(moments, moments), min_size=1, max_size=30))
def test_working_time_between_equals_the_calendars(pairs: list[tuple[datetime, datetime]]) -> None:
    start = np.array([int(a.timestamp()) for a, _ in pairs], dtype=np.int64)
    end = np.array([int(b.timestamp()) for _, b in pairs], dtype=np.int64)
    expected = [int(CALENDAR.working_time_between(a, b).total_seconds()) for a, b in pairs]
    assert ARRAYS.working_between(start, end).tolist() == expected


def test_a_make_up_saturday_is_worked_and_an_extra_day_off_is_not() -> None:
    friday = int(datetime(2025, 4, 25, 16, 0, tzinfo=VN_TZ).timestamp())
    due = ARRAYS.add_working(np.array([friday]), np.array([2 * 3600]))
    assert datetime.fromtimestamp(int(due[0]), VN_TZ) == datetime(2025, 4, 26, 8, 0, tzinfo=VN_TZ)
    before_day_off = int(datetime(2025, 9, 3, 9, 0, tzinfo=VN_TZ).timestamp())
    due = ARRAYS.add_working(np.array([before_day_off]), np.array([3600]))
    assert datetime.fromtimestamp(int(due[0]), VN_TZ) == datetime(2025, 9, 4, 8, 0, tzinfo=VN_TZ)


def test_durations_that_are_not_whole_seconds_are_left_to_the_calendar() -> None:
    assert duration_seconds(CALENDAR, 1 / 7, "working_days") is None  # 8 h / 7
    assert duration_seconds(CALENDAR, 2.5, "calendar_days") is None
    assert duration_seconds(CALENDAR, 2, "working_days") == 16 * 3600
