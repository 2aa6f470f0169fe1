"""The Vietnamese working-time calendar that sets a dossier's due date (ngày hẹn trả kết quả).

Working days: Monday to Friday, less the public holidays of PyPI `holidays` (lunar Tết and the Hùng
Kings' day included, with the substitute days off it knows), plus the make-up working Saturdays the
library lists, and finally an editable table of dated overrides (`calendar_overrides.toml`) that has the
last word: the government swaps days every year and the operator must be able to follow it.

Working time runs only inside office sessions (07:00–11:30 and 13:30–17:00 by default: 8 h a day).
Every operation reads one "working clock": the working time elapsed from the start of the calendar's
range to a moment. Adding, subtracting and measuring are that clock and its inverse, so they agree by
construction (`working_time_between(s, add_working_time(s, d)) == d`).

Boundaries: a due date may fall on a session's closing minute (11:30, 17:00), never after it; a start
on a closing minute or outside office hours begins at the next opening. So `add_working_time` returns
a moment inside a closed session and `subtract_working_time` one inside a half-open session.

Calendar-day procedures (`add_calendar_days`): following the Civil Code 2015 art. 147–148, the count
starts the day after receipt and the period ends at the close of office on its last day; when that day
is a day off, at the close of office of the next working day.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from cityops.core.text_limits import Label

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DurationUnit = Literal["working_days", "working_hours", "calendar_days"]
DEFAULT_OVERRIDES = Path(__file__).with_name("calendar_overrides.toml")
ZERO = timedelta(0)
_TICK = timedelta(microseconds=1)
_WEEKEND_REASON = "Nghỉ cuối tuần"


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone: its instant is ambiguous, so it is refused."""

    def __init__(self, name: str, value: datetime) -> None:
        super().__init__(
            f"{name}: {value.isoformat()} has no time zone; give an aware datetime "
            "(e.g. 2025-04-25T10:00:00+07:00, Asia/Ho_Chi_Minh)"
        )


def local(name: str, value: datetime) -> datetime:
    """`value` as Vietnam local time; a naive datetime is refused with an error naming `name`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(name, value)
    return value.astimezone(VN_TZ)


class DayOverride(BaseModel):
    """One swapped day: a make-up working day (`working = true`) or an extra day off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    working: bool
    reason: Label = Field(min_length=1)


class OfficeHours(BaseModel):
    """The office sessions of a working day, in local time, in order and not overlapping."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sessions: tuple[tuple[time, time], ...] = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))

    @field_validator("sessions")
    @classmethod
    def _ordered(cls, sessions: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
        if not sessions:
            raise ValueError("at least one office session is needed")
        previous_close: time | None = None
        for opening, closing in sessions:
            if opening.tzinfo is not None or closing.tzinfo is not None:
                raise ValueError("session times are local wall-clock times, without a time zone")
            if opening >= closing:
                raise ValueError(f"session {opening}–{closing} closes before it opens")
            if previous_close is not None and opening < previous_close:
                raise ValueError(f"session {opening}–{closing} overlaps or precedes the one before it")
            previous_close = closing
        return sessions

    @property
    def day_length(self) -> timedelta:
        return sum((_since_midnight(c) - _since_midnight(o) for o, c in self.sessions), ZERO)


def _since_midnight(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour, minutes=moment.minute, seconds=moment.second, microseconds=moment.microsecond
    )


_OVERRIDES = TypeAdapter(list[DayOverride])


def load_overrides(path: Path = DEFAULT_OVERRIDES) -> list[DayOverride]:
    """The `[[override]]` entries of a TOML file (`day`, `working`, `reason`)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        overrides = _OVERRIDES.validate_python(data.get("override", []))
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise ValueError(f"{path}: {error}") from error
    _check_unique(overrides)
    return overrides


def _check_unique(overrides: Iterable[DayOverride]) -> dict[date, DayOverride]:
    by_day: dict[date, DayOverride] = {}
    for override in overrides:
        if override.day in by_day:
            raise ValueError(f"override: {override.day} is listed twice")
        by_day[override.day] = override
    return by_day


class WorkingCalendar:
    """Working days and office hours; all inputs must be aware datetimes, all results are in Vietnam time."""

    def __init__(
        self,
        overrides: Iterable[DayOverride] | None = None,
        *,
        office_hours: OfficeHours | None = None,
        weekend: Iterable[int] = (5, 6),
        library_workdays: bool = True,
    ) -> None:
        """`overrides=None` loads the packaged table; `library_workdays` adds the make-up Saturdays that
        `holidays` lists (its `weekend_workdays`) before the overrides are applied."""
        self.office_hours = office_hours or OfficeHours()
        self.overrides = _check_unique(load_overrides() if overrides is None else overrides)
        self.weekend = frozenset(weekend)
        self._library_workdays = library_workdays
        self._sessions = [(_since_midnight(o), _since_midnight(c)) for o, c in self.office_hours.sessions]
        self._session_starts: list[timedelta] = []
        worked = ZERO
        for opening, closing in self._sessions:
            self._session_starts.append(worked)
            worked += closing - opening
        self.day_length = worked
        self._close = self._sessions[-1][1]
        self._first_year = 0
        self._last_year = -1
        self._days: list[int] = []  # ordinals of the working days of [_first_year, _last_year]
        self._holidays: dict[date, str] = {}

    # -- days -------------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = local("day", day).date()
        self._cover(day.year)
        ordinal = day.toordinal()
        index = bisect_left(self._days, ordinal)
        return index < len(self._days) and self._days[index] == ordinal

    def day_off_reason(self, day: date) -> str | None:
        """Why `day` is not worked (override reason, holiday name in Vietnamese, weekend), or None."""
        if self.is_working_day(day):
            return None
        override = self.overrides.get(day)
        if override is not None:
            return override.reason
        return self._holidays.get(day, _WEEKEND_REASON)

    def is_working_time(self, moment: datetime) -> bool:
        """Inside a (closed) office session of a working day."""
        moment = local("moment", moment)
        if not self.is_working_day(moment.date()):
            return False
        offset = moment - _midnight(moment)
        return any(opening <= offset <= closing for opening, closing in self._sessions)

    # -- working time -----------------------------------------------------------------------------------

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start` (a due date: inside office hours of a
        working day). A zero duration gives the next moment work can start."""
        moment = local("start", start)
        if duration < ZERO:
            raise ValueError(f"duration: {duration} is negative; use subtract_working_time")
        return self._from_clock(self._clock(moment) + duration, closing=duration > ZERO)

    def subtract_working_time(self, end: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time before `end` (inverse of `add_working_time`)."""
        moment = local("end", end)
        if duration < ZERO:
            raise ValueError(f"duration: {duration} is negative; use add_working_time")
        while True:
            clock = self._clock(moment) - duration
            if clock > ZERO:
                return self._from_clock(clock, closing=duration == ZERO)
            years_back = -clock // (self.day_length * 200) + 1
            self._cover(self._first_year - years_back)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end`; negative when `end` is earlier."""
        first, last = local("start", start), local("end", end)
        self._cover(first.year)
        self._cover(last.year)
        return self._clock(last) - self._clock(first)

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself inside office hours (before a closing minute), else the next opening."""
        return self.add_working_time(moment, ZERO)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        return self.add_working_time(start, timedelta(hours=hours))

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """Days of `day_length` (8 h by default) working time each."""
        return self.add_working_time(start, self.day_length * days)

    def add_calendar_days(self, start: datetime, days: int) -> datetime:
        """Close of office on the `days`-th day after `start`, or on the next working day if that is off."""
        moment = local("start", start)
        if days < 0:
            raise ValueError(f"days: {days} is negative")
        last = moment.date() + timedelta(days=days)
        while not self.is_working_day(last):
            last += timedelta(days=1)
        return datetime.combine(last, time(), VN_TZ) + self._close

    def due_after(self, start: datetime, amount: float, unit: DurationUnit) -> datetime:
        """The due date of a procedure whose legal duration is `amount` `unit` after `start`."""
        if amount < 0:
            raise ValueError(f"duration: {amount} is negative")
        if unit == "working_hours":
            return self.add_working_hours(start, amount)
        if unit == "working_days":
            return self.add_working_days(start, amount)
        if unit == "calendar_days":
            if amount != int(amount):
                raise ValueError(f"duration: {amount} calendar days is not a whole number of days")
            return self.add_calendar_days(start, int(amount))
        raise ValueError(f"duration_unit: {unit!r} is not one of working_days, working_hours, calendar_days")

    def extend_for_pause(self, due: datetime, paused_from: datetime, paused_until: datetime) -> datetime:
        """The due date moved later by the working time the dossier waited for the citizen (supplement)."""
        due = local("due", due)
        if paused_until < paused_from:
            raise ValueError(f"paused_until: {paused_until.isoformat()} is before paused_from")
        waited = self.working_time_between(paused_from, paused_until)
        return due if waited == ZERO else self.add_working_time(due, waited)

    def working_days(self, first_year: int, last_year: int) -> list[int]:
        """Ordinals of the working days of every year covered, `first_year` to `last_year` at least (for
        array versions of the working clock, `due_dates`); later calls may return a longer list."""
        self._cover(first_year)
        self._cover(last_year)
        return self._days

    # -- the working clock ------------------------------------------------------------------------------

    def _clock(self, moment: datetime) -> timedelta:
        """Working time from the first day covered to `moment` (a Vietnam-local datetime)."""
        self._cover(moment.year)
        ordinal = moment.toordinal()
        index = bisect_left(self._days, ordinal)
        clock = self.day_length * index
        if index < len(self._days) and self._days[index] == ordinal:
            offset = moment - _midnight(moment)
            for opening, closing in self._sessions:
                clock += min(max(offset - opening, ZERO), closing - opening)
        return clock

    def _from_clock(self, clock: timedelta, *, closing: bool) -> datetime:
        """The moment at working clock `clock`; `closing` picks the end of a session over the start of
        the next one (and of the previous working day over the next) when both read the same clock."""
        index = (clock - _TICK) // self.day_length if closing else clock // self.day_length
        offset = clock - self.day_length * index
        while index >= len(self._days):
            self._cover(self._last_year + 1)
        day = date.fromordinal(self._days[index])
        for (opening, end), worked in zip(self._sessions, self._session_starts, strict=True):
            length = end - opening
            if offset < worked + length or (closing and offset == worked + length):
                return datetime.combine(day, time(), VN_TZ) + opening + (offset - worked)
        raise AssertionError("offset beyond the working day")  # pragma: no cover

    def _cover(self, year: int) -> None:
        """Make the working-day table include `year` (and a year either side)."""
        if self._first_year <= year <= self._last_year:
            return
        if self._last_year < self._first_year:
            first, last = year - 1, year + 1
        else:
            first, last = min(self._first_year, year - 1), max(self._last_year, year + 1)
        public = holidays.country_holidays("VN", years=range(first, last + 1), language="vi")
        made_up = set(getattr(public, "weekend_workdays", ())) if self._library_workdays else set()
        start, stop = date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal()
        days = []
        for ordinal in range(start, stop + 1):
            day = date.fromordinal(ordinal)
            override = self.overrides.get(day)
            if override is not None:
                working = override.working
            elif day in public:
                working = False
            else:
                working = day in made_up or day.weekday() not in self.weekend
            if working:
                days.append(ordinal)
        self._days = days
        self._holidays = {day: str(name) for day, name in public.items()}
        self._first_year, self._last_year = first, last


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
