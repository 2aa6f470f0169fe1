"""Reporting periods (year, quarter, month) in Vietnam local time, and the epoch-second helpers that the
hot paths (classification, index accumulator) use instead of datetimes.

Vietnam has kept UTC+7 without daylight saving since 1975, so a local day is a fixed 86,400-second slice
of the epoch and every local midnight falls on a whole UTC hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, get_args

from cityops.services.timing.calendar import VN_TZ, local

PeriodKind = Literal["year", "quarter", "month"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

VN_OFFSET_S = 7 * 3600
DAY_S = 86_400
HOUR_S = 3_600
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


def timestamp(name: str, moment: datetime) -> int:
    """Whole epoch seconds of an aware datetime (naive ones are refused, naming `name`)."""
    return int(local(name, moment).timestamp())


def local_day(ts: int) -> int:
    """Proleptic ordinal of the Vietnam local date of epoch second `ts`."""
    return (ts + VN_OFFSET_S) // DAY_S + _EPOCH_ORDINAL


def day_start(ordinal: int) -> int:
    """Epoch second of local midnight starting the day with this ordinal."""
    return (ordinal - _EPOCH_ORDINAL) * DAY_S - VN_OFFSET_S


def from_timestamp(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, VN_TZ)


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A calendar year, quarter or month. `index` is the year, `year*4 + quarter-1` or `year*12 + month-1`."""

    kind: PeriodKind
    index: int

    @classmethod
    def of(cls, kind: PeriodKind, day: date) -> Period:
        if kind == "year":
            return cls(kind, day.year)
        if kind == "quarter":
            return cls(kind, day.year * 4 + (day.month - 1) // 3)
        return cls(kind, day.year * 12 + day.month - 1)

    @classmethod
    def at(cls, kind: PeriodKind, ts: int) -> Period:
        return cls.of(kind, date.fromordinal(local_day(ts)))

    @classmethod
    def parse(cls, text: str) -> Period:
        """'2025' (year), '2025-Q2' (quarter) or '2025-03' (month)."""
        match = _PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"period: {text!r} is not a year (2025), quarter (2025-Q2) or month (2025-03)")
        year = int(match["year"])
        if match["quarter"]:
            return cls("quarter", year * 4 + int(match["quarter"]) - 1)
        if match["month"]:
            return cls("month", year * 12 + int(match["month"]) - 1)
        return cls("year", year)

    @property
    def key(self) -> str:
        if self.kind == "year":
            return str(self.index)
        if self.kind == "quarter":
            return f"{self.index // 4}-Q{self.index % 4 + 1}"
        return f"{self.index // 12}-{self.index % 12 + 1:02d}"

    @property
    def start(self) -> date:
        if self.kind == "year":
            return date(self.index, 1, 1)
        if self.kind == "quarter":
            return date(self.index // 4, self.index % 4 * 3 + 1, 1)
        return date(self.index // 12, self.index % 12 + 1, 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.next().start

    @property
    def start_ts(self) -> int:
        return day_start(self.start.toordinal())

    @property
    def end_ts(self) -> int:
        return day_start(self.end.toordinal())

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def next(self) -> Period:
        return Period(self.kind, self.index + 1)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def months(self) -> list[Period]:
        """The months the period is made of."""
        first = Period.of("month", self.start)
        last = Period.of("month", self.end - timedelta(days=1))
        return [Period("month", index) for index in range(first.index, last.index + 1)]

    def __str__(self) -> str:
        return self.key
