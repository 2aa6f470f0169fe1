"""Statistical periods as a statistics office names them: a month ("Tháng 9/2021"), a cumulative period
from January ("9 tháng năm 2021") and a year ("Năm 2021").

Written forms that `parse` accepts (case and surrounding spaces ignored):
- a month: `2021-09`, `Tháng 9/2021`, `T9/2021`;
- a cumulative period from January: `2021-01..09`, `9 tháng năm 2021`, `9 tháng 2021`, `9T/2021`;
- a year: `2021`, `Năm 2021`.
`Tháng 1/2021` and `1 tháng năm 2021` are the same period (one month from January).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FIRST_YEAR, LAST_YEAR = 1900, 2199


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    year: int
    first_month: int
    last_month: int

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise PeriodError(f"year {self.year} is outside {FIRST_YEAR}–{LAST_YEAR}")
        for month in (self.first_month, self.last_month):
            if not 1 <= month <= 12:
                raise PeriodError(f"month {month} is out of range (1–12)")
        if self.first_month != 1 and self.first_month != self.last_month:
            raise PeriodError("a period is one month or months counted from January")
        if self.first_month > self.last_month:
            raise PeriodError("a period cannot end before it starts")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, month, month)

    @classmethod
    def cumulative(cls, year: int, months: int) -> Period:
        return cls(year, 1, months)

    @property
    def is_month(self) -> bool:
        return self.first_month == self.last_month

    @property
    def months(self) -> int:
        return self.last_month - self.first_month + 1

    def previous_year(self) -> Period:
        """The same period a year earlier: what year-on-year change compares against."""
        return Period(self.year - 1, self.first_month, self.last_month)

    def month_list(self) -> list[Period]:
        return [Period.month(self.year, m) for m in range(self.first_month, self.last_month + 1)]

    @property
    def key(self) -> str:
        """The canonical written form (`2021-09`, `2021-01..09`, `2021`)."""
        if self.is_month and self.first_month != 1:
            return f"{self.year}-{self.first_month:02d}"
        if self.first_month == self.last_month == 1:
            return f"{self.year}-01"
        if self.last_month == 12:
            return str(self.year)
        return f"{self.year}-01..{self.last_month:02d}"

    def label(self, lang: str) -> str:
        if self.is_month:
            return {
                "vi": f"Tháng {self.first_month}/{self.year}",
                "en": f"{MONTHS_EN[self.first_month - 1]} {self.year}",
                "ja": f"{self.year}年{self.first_month}月",
            }.get(lang, self.key)
        if self.last_month == 12:
            return {"vi": f"Năm {self.year}", "en": str(self.year), "ja": f"{self.year}年"}.get(
                lang, self.key
            )
        return {
            "vi": f"{self.last_month} tháng năm {self.year}",
            "en": f"{self.last_month} months of {self.year}",
            "ja": f"{self.year}年1～{self.last_month}月",
        }.get(lang, self.key)


MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$|^(?:tháng|t)\s*(\d{1,2})\s*/\s*(\d{4})$")
_CUMULATIVE = re.compile(
    r"^(\d{4})-0?1\s*\.\.\s*(\d{1,2})$|^(\d{1,2})\s*(?:tháng(?:\s+năm)?\s+|t\s*/\s*)(\d{4})$"
)
_YEAR = re.compile(r"^(?:năm\s+)?(\d{4})$")


def parse(text: str) -> Period:
    """A period from one of its written forms; PeriodError says why not."""
    cleaned = " ".join(str(text).strip().lower().split())
    try:
        if match := _MONTH.match(cleaned):
            year, month = (match[1], match[2]) if match[1] else (match[4], match[3])
            return Period.month(int(year), int(month))
        if match := _CUMULATIVE.match(cleaned):
            year, months = (match[1], match[2]) if match[1] else (match[4], match[3])
            return Period.cumulative(int(year), int(months))
        if match := _YEAR.match(cleaned):
            return Period.cumulative(int(match[1]), 12)
    except PeriodError as error:
        raise PeriodError(f"{text!r}: {error}") from None
    raise PeriodError(
        f"{text!r} is not a period: write a month (2021-09, Tháng 9/2021), months from January "
        "(2021-01..09, 9 tháng năm 2021) or a year (2021)"
    )
