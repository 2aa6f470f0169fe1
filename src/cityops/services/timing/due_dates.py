"""Due dates for many dossiers at once: the working calendar's clock on arrays.

`WorkingCalendar.due_after` costs ~20 µs a dossier; a bulk import needs the calendar's due date of every
row to check the source's. This module computes the same moments with numpy, from the calendar's own
working-day table and office sessions, for whole-second receipt times and durations that are a whole
number of seconds; `vector_ready` says when that holds (otherwise use the calendar itself). The property
tests check it against `due_after`.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from cityops.services.timing.calendar import DurationUnit, WorkingCalendar
from cityops.services.timing.periods import DAY_S, VN_OFFSET_S

Int64s = npt.NDArray[np.int64]
UNIT_CODES: dict[DurationUnit, int] = {"working_hours": 0, "working_days": 1, "calendar_days": 2}
_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()


def duration_seconds(calendar: WorkingCalendar, amount: float, unit: DurationUnit) -> int | None:
    """The working time (or, for calendar days, the days) a procedure allows, as a whole number, or None
    when it is not one (the calendar itself must then be used)."""
    if unit == "calendar_days":
        return int(amount) if amount == int(amount) else None
    span = calendar.day_length * amount if unit == "working_days" else timedelta(hours=amount)
    seconds = span.total_seconds()
    return int(seconds) if seconds == int(seconds) and span == timedelta(seconds=int(seconds)) else None


def vector_ready(calendar: WorkingCalendar) -> bool:
    """Office sessions on whole seconds (the default 07:00–11:30, 13:30–17:00 are)."""
    return all(moment.microsecond == 0 for session in calendar.office_hours.sessions for moment in session)


class DueDateArrays:
    """The calendar's tables as arrays, covering `first_year` to `last_year` (and beyond, as needed)."""

    def __init__(self, calendar: WorkingCalendar, first_year: int, last_year: int) -> None:
        if not vector_ready(calendar):
            raise ValueError("office_hours: sessions must start and end on whole seconds")
        self.calendar = calendar
        self._sessions = [
            (
                o.hour * 3600 + o.minute * 60 + o.second,
                c.hour * 3600 + c.minute * 60 + c.second,
            )
            for o, c in calendar.office_hours.sessions
        ]
        self.day_length = sum(c - o for o, c in self._sessions)
        self._load(first_year, last_year)

    def _load(self, first_year: int, last_year: int) -> None:
        self.first_year, self.last_year = first_year, last_year
        self.days = np.array(self.calendar.working_days(first_year, last_year), dtype=np.int64)

    def due(self, received: Int64s, amount: Int64s, unit: Int64s) -> Int64s:
        """Epoch seconds of the due date of each dossier received at `received` (epoch seconds) with a
        procedure allowing `amount` (seconds of working time, or days for calendar days) in `unit`
        (`UNIT_CODES`)."""
        local = received + VN_OFFSET_S
        ordinal = local // DAY_S + _EPOCH_ORDINAL
        working = unit != UNIT_CODES["calendar_days"]
        reach = max(
            int(amount[working].max()) // self.day_length * 2 if working.any() else 0,
            int(amount[~working].max()) if (~working).any() else 0,
        )
        self._cover(int(ordinal.min()), int(ordinal.max()) + reach + 60)
        result = np.empty_like(received)
        if working.any():
            clock = self._clock(ordinal[working], local[working] % DAY_S) + amount[working]
            result[working] = self._from_clock(clock, closing=amount[working] > 0)
        calendar_days = ~working
        if calendar_days.any():
            last = ordinal[calendar_days] + amount[calendar_days]
            index = np.searchsorted(self.days, last, side="left")
            result[calendar_days] = self._midnight(self.days[index]) + self._sessions[-1][1]
        return result

    def add_working(self, start: Int64s, seconds: Int64s) -> Int64s:
        """`start` plus `seconds` of working time (`WorkingCalendar.add_working_time`)."""
        return self.due(start, seconds, np.zeros(len(start), dtype=np.int64))

    def working_between(self, start: Int64s, end: Int64s) -> Int64s:
        """Seconds of working time from `start` to `end` (`WorkingCalendar.working_time_between`)."""
        local_start, local_end = start + VN_OFFSET_S, end + VN_OFFSET_S
        first, last = local_start // DAY_S + _EPOCH_ORDINAL, local_end // DAY_S + _EPOCH_ORDINAL
        self._cover(int(min(first.min(), last.min())), int(max(first.max(), last.max())) + 60)
        return self._clock(last, local_end % DAY_S) - self._clock(first, local_start % DAY_S)

    def _cover(self, first_ordinal: int, last_ordinal: int) -> None:
        first = min(self.first_year, _year_of(first_ordinal))
        last = max(self.last_year, _year_of(last_ordinal))
        if (first, last) != (self.first_year, self.last_year) or self.days[0] > first_ordinal:
            self._load(first, last)

    def _clock(self, ordinal: Int64s, offset: Int64s) -> Int64s:
        index = np.searchsorted(self.days, ordinal, side="left")
        inside = index < len(self.days)
        is_working = np.zeros(len(ordinal), dtype=np.bool_)
        is_working[inside] = self.days[index[inside]] == ordinal[inside]
        clock = index * self.day_length
        worked = np.zeros(len(ordinal), dtype=np.int64)
        for opening, closing in self._sessions:
            worked += np.clip(offset - opening, 0, closing - opening)
        return clock + np.where(is_working, worked, 0)

    def _from_clock(self, clock: Int64s, closing: npt.NDArray[np.bool_]) -> Int64s:
        index = np.where(closing, (clock - 1) // self.day_length, clock // self.day_length)
        offset = clock - self.day_length * index
        midnight = self._midnight(self.days[index])
        result = np.zeros(len(clock), dtype=np.int64)
        done = np.zeros(len(clock), dtype=np.bool_)
        worked = 0
        for opening, end in self._sessions:
            length = end - opening
            here = ~done & ((offset < worked + length) | (closing & (offset == worked + length)))
            result[here] = midnight[here] + opening + (offset[here] - worked)
            done |= here
            worked += length
        return result

    @staticmethod
    def _midnight(ordinal: Int64s) -> Int64s:
        return (ordinal - _EPOCH_ORDINAL) * DAY_S - VN_OFFSET_S


def _year_of(ordinal: int) -> int:
    return date.fromordinal(ordinal).year
