"""The working-time calendar: holidays (lunar ones included), swapped days, office hours, and the
properties every due date must have."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.services.timing.calendar import (
    VN_TZ,
    DayOverride,
    NaiveDatetimeError,
    OfficeHours,
    WorkingCalendar,
    load_overrides,
)

CALENDAR = WorkingCalendar()
HOUR = timedelta(hours=1)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


moments = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2027, 6, 30),
    timezones=st.sampled_from([VN_TZ, UTC, ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/Paris")]),
)
# Up to a year of working time, to the minute.
durations = st.integers(min_value=1, max_value=250 * 8 * 60).map(lambda m: timedelta(minutes=m))


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class TestDays:
    @pytest.mark.parametrize(
        ("first", "last"),
        [(date(2025, 1, 27), date(2025, 2, 1)), (date(2026, 2, 16), date(2026, 2, 20))],
        ids=["Tết 2025", "Tết 2026"],
    )
    def test_lunar_new_year_is_off_and_framed_by_working_days(self, first: date, last: date) -> None:
        assert not any(CALENDAR.is_working_day(d) for d in days_between(first, last))
        before = first - timedelta(days=1)
        while before.weekday() >= 5:
            before -= timedelta(days=1)
        assert CALENDAR.is_working_day(before)

    def test_tet_2025_runs_27_january_to_1_february(self) -> None:
        # The working days around it: Friday 24 January and Monday 3 February.
        assert CALENDAR.is_working_day(date(2025, 1, 24))
        assert CALENDAR.is_working_day(date(2025, 2, 3))
        assert CALENDAR.day_off_reason(date(2025, 1, 29)) is not None

    def test_hung_kings_day_follows_the_lunar_calendar(self) -> None:
        assert not CALENDAR.is_working_day(date(2025, 4, 7))  # Monday, 10th of the 3rd lunar month
        assert not CALENDAR.is_working_day(date(2026, 4, 27))  # observed on Monday (falls on Sunday 26)
        assert CALENDAR.is_working_day(date(2026, 4, 28))

    def test_make_up_saturday_is_worked_and_its_bridge_day_is_off(self) -> None:
        assert CALENDAR.is_working_day(date(2025, 4, 26))
        assert not CALENDAR.is_working_day(date(2025, 5, 2))
        assert CALENDAR.day_off_reason(date(2025, 4, 26)) is None

    def test_packaged_override_table_names_the_make_up_day(self) -> None:
        override = CALENDAR.overrides[date(2025, 4, 26)]
        assert override.working
        assert "Làm bù" in override.reason

    def test_without_overrides_or_library_workdays_a_saturday_is_off(self) -> None:
        bare = WorkingCalendar([], library_workdays=False)
        assert not bare.is_working_day(date(2025, 4, 26))
        assert bare.day_off_reason(date(2025, 4, 26)) == "Nghỉ cuối tuần"

    def test_override_table_has_the_last_word(self) -> None:
        custom = WorkingCalendar(
            [
                DayOverride(day=date(2025, 6, 14), working=True, reason="Làm bù"),
                DayOverride(day=date(2025, 6, 16), working=False, reason="Nghỉ thêm"),
                DayOverride(day=date(2025, 4, 26), working=False, reason="Huỷ làm bù"),
            ]
        )
        assert custom.is_working_day(date(2025, 6, 14))  # a Saturday
        assert not custom.is_working_day(date(2025, 6, 16))  # a Monday
        assert custom.day_off_reason(date(2025, 6, 16)) == "Nghỉ thêm"
        assert not custom.is_working_day(date(2025, 4, 26))  # beats the library's make-up day
        # Monday 16 is off, so Friday 13 16:00 + 3 h runs Friday 1 h, Saturday 14 from 07:00 for 2 h.
        assert custom.add_working_hours(vn(2025, 6, 13, 16), 3) == vn(2025, 6, 14, 9)

    def test_override_file_with_a_day_twice_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "overrides.toml"
        entry = '[[override]]\nday = 2025-06-14\nworking = true\nreason = "x"\n'
        path.write_text(entry * 2, encoding="utf-8")
        with pytest.raises(ValueError, match=r"2025-06-14 is listed twice"):
            load_overrides(path)

    def test_override_without_reason_is_refused_naming_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "overrides.toml"
        path.write_text("[[override]]\nday = 2025-06-14\nworking = true\n", encoding="utf-8")
        with pytest.raises(ValueError, match=r"(?s)overrides\.toml.*reason"):
            load_overrides(path)


class TestWorkingTime:
    def test_five_working_days_skip_the_long_may_holiday(self) -> None:
        # Fri 25 Apr 10:00; worked: Sat 26 (make-up), Mon 28, Tue 29, then 30 Apr–4 May off, Mon 5, Tue 6.
        assert CALENDAR.add_working_days(vn(2025, 4, 25, 10), 5) == vn(2025, 5, 6, 10)

    def test_hours_skip_lunch_break_and_tet(self) -> None:
        assert CALENDAR.add_working_hours(vn(2025, 3, 3, 10), 2) == vn(2025, 3, 3, 14)  # 1.5 h + 0.5 h
        # One hour on Friday 24 January, the second after the Tết break.
        assert CALENDAR.add_working_hours(vn(2025, 1, 24, 16), 2) == vn(2025, 2, 3, 8)

    def test_due_may_fall_on_a_closing_minute(self) -> None:
        assert CALENDAR.add_working_hours(vn(2025, 3, 3, 7), 8) == vn(2025, 3, 3, 17)
        assert CALENDAR.add_working_hours(vn(2025, 3, 3, 9), 2.5) == vn(2025, 3, 3, 11, 30)

    def test_start_outside_office_hours_begins_at_the_next_opening(self) -> None:
        assert CALENDAR.add_working_hours(vn(2025, 3, 3, 12), 1) == vn(2025, 3, 3, 14, 30)
        assert CALENDAR.add_working_hours(vn(2025, 3, 7, 18), 1) == vn(2025, 3, 10, 8)  # Friday evening
        assert CALENDAR.next_working_moment(vn(2025, 3, 3, 11, 30)) == vn(2025, 3, 3, 13, 30)

    def test_calendar_days_end_at_close_of_office_moved_past_days_off(self) -> None:
        assert CALENDAR.add_calendar_days(vn(2025, 3, 3, 9), 10) == vn(2025, 3, 13, 17)
        # 15 days after 25 April is Saturday 10 May: the period ends on Monday 12 May.
        assert CALENDAR.add_calendar_days(vn(2025, 4, 25, 10), 15) == vn(2025, 5, 12, 17)

    def test_supplement_pause_moves_the_due_date_by_the_working_time_waited(self) -> None:
        # Waited Mon 16:00 → Tue 09:00: 1 h + 2 h of working time.
        due = CALENDAR.extend_for_pause(vn(2025, 3, 10, 10), vn(2025, 3, 3, 16), vn(2025, 3, 4, 9))
        assert due == vn(2025, 3, 10, 15)  # 10:00 + 1.5 h to 11:30, + 1.5 h from 13:30

    def test_a_pause_outside_office_hours_changes_nothing(self) -> None:
        due = vn(2025, 3, 10, 17)
        assert CALENDAR.extend_for_pause(due, vn(2025, 3, 8, 9), vn(2025, 3, 9, 18)) == due

    def test_due_after_by_unit(self) -> None:
        start = vn(2025, 3, 3, 9)
        assert CALENDAR.due_after(start, 16, "working_hours") == CALENDAR.due_after(start, 2, "working_days")
        assert CALENDAR.due_after(start, 10, "calendar_days") == vn(2025, 3, 13, 17)
        with pytest.raises(ValueError, match=r"not a whole number"):
            CALENDAR.due_after(start, 1.5, "calendar_days")
        with pytest.raises(ValueError, match=r"negative"):
            CALENDAR.due_after(start, -1, "working_days")

    def test_configurable_office_hours(self) -> None:
        hours = OfficeHours(sessions=((time(8), time(12)), (time(13), time(17))))
        custom = WorkingCalendar(office_hours=hours)
        assert custom.day_length == 8 * HOUR
        assert custom.add_working_hours(vn(2025, 3, 3, 11), 2) == vn(2025, 3, 3, 14)

    def test_overlapping_office_sessions_are_refused(self) -> None:
        with pytest.raises(ValueError, match=r"overlaps"):
            OfficeHours(sessions=((time(7), time(12)), (time(11), time(17))))

    @pytest.mark.parametrize(
        ("call", "name"),
        [
            (lambda: CALENDAR.add_working_hours(datetime(2025, 3, 3, 9), 1), "start"),
            (lambda: CALENDAR.subtract_working_time(datetime(2025, 3, 3, 9), HOUR), "end"),
            (lambda: CALENDAR.working_time_between(vn(2025, 3, 3, 9), datetime(2025, 3, 4)), "end"),
            (lambda: CALENDAR.extend_for_pause(datetime(2025, 3, 3), vn(2025, 3, 3), vn(2025, 3, 4)), "due"),
            (lambda: CALENDAR.add_calendar_days(datetime(2025, 3, 3), 3), "start"),
        ],
    )
    def test_naive_datetimes_are_refused_naming_the_argument(self, call: object, name: str) -> None:
        with pytest.raises(NaiveDatetimeError, match=f"^{name}: .* has no time zone"):
            call()  # type: ignore[operator]


class TestProperties:
    @given(moments, durations)
    def test_a_due_date_is_inside_office_hours_of_a_working_day(
        self, start: datetime, duration: timedelta
    ) -> None:
        due = CALENDAR.add_working_time(start, duration)
        assert due.tzinfo is VN_TZ
        assert CALENDAR.is_working_day(due.date())
        assert CALENDAR.is_working_time(due)
        assert due > start

    @given(moments, st.integers(0, 400), st.sampled_from(["working_days", "working_hours", "calendar_days"]))
    def test_no_unit_gives_a_due_date_on_a_day_off(self, start: datetime, amount: int, unit: str) -> None:
        due = CALENDAR.due_after(start, amount, unit)  # type: ignore[arg-type]
        assert CALENDAR.is_working_time(due)

    @given(moments, durations)
    def test_measured_working_time_is_the_time_added(self, start: datetime, duration: timedelta) -> None:
        assert CALENDAR.working_time_between(start, CALENDAR.add_working_time(start, duration)) == duration

    @given(moments, durations)
    def test_add_then_subtract_round_trips(self, start: datetime, duration: timedelta) -> None:
        due = CALENDAR.add_working_time(start, duration)
        assert CALENDAR.subtract_working_time(due, duration) == CALENDAR.next_working_moment(start)

    @given(moments, durations)
    def test_subtract_then_add_round_trips(self, end: datetime, duration: timedelta) -> None:
        start = CALENDAR.subtract_working_time(end, duration)
        assert CALENDAR.working_time_between(start, end) == duration
        assert CALENDAR.add_working_time(start, duration) == CALENDAR.subtract_working_time(end, timedelta(0))

    @given(moments, durations, durations)
    def test_adding_is_monotonic_and_additive(self, start: datetime, a: timedelta, b: timedelta) -> None:
        once = CALENDAR.add_working_time(start, a + b)
        assert CALENDAR.add_working_time(start, a) <= once
        assert CALENDAR.add_working_time(CALENDAR.add_working_time(start, a), b) == once

    @given(moments, moments)
    def test_working_time_between_is_antisymmetric(self, a: datetime, b: datetime) -> None:
        forward = CALENDAR.working_time_between(a, b)
        assert forward == -CALENDAR.working_time_between(b, a)
        assert forward >= timedelta(0) if b >= a else forward <= timedelta(0)

    @given(moments, moments, moments)
    def test_pause_extension_adds_exactly_the_time_waited(
        self, due: datetime, a: datetime, b: datetime
    ) -> None:
        paused_from, paused_until = min(a, b), max(a, b)
        moved = CALENDAR.extend_for_pause(due, paused_from, paused_until)
        waited = CALENDAR.working_time_between(paused_from, paused_until)
        assert CALENDAR.working_time_between(due, moved) == waited
        assert moved >= due


overrides = st.dictionaries(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)), st.booleans(), max_size=30
).map(lambda days: [DayOverride(day=d, working=w, reason="test") for d, w in days.items()])


@given(
    overrides,
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(VN_TZ)),
    durations,
)
def test_edited_override_tables_keep_due_dates_on_working_days(
    table: list[DayOverride], start: datetime, duration: timedelta
) -> None:
    calendar = WorkingCalendar(table)
    due = calendar.add_working_time(start, duration)
    assert calendar.is_working_time(due)
    for override in table:
        assert calendar.is_working_day(override.day) is override.working
    assert calendar.working_time_between(start, due) == duration
