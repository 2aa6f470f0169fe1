"""Year-on-year change as a statistics office reports it: a period (a month, or months from January)
against the same period of the previous year.

For an additive series (retail sales, exports...) a cumulative period the source did not publish is the
sum of its months, when every month is known; an index or a share (IIP, firms back at work) is never
summed, so only a published cumulative figure counts for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cityops.economy.periods import Period


@dataclass(frozen=True)
class Level:
    value: float
    summed: bool  # true when added up from the months, not published for the period itself


def level(values: Mapping[Period, float], period: Period, additive: bool) -> Level | None:
    if period in values:
        return Level(values[period], False)
    if not additive or period.is_month:
        return None
    months = period.month_list()
    if all(month in values for month in months):
        return Level(sum(values[month] for month in months), True)
    return None


def year_on_year(values: Mapping[Period, float], period: Period, additive: bool) -> float | None:
    """Percent change of `period` on the same period a year earlier; None when either is unknown or the
    earlier one is not positive (no meaningful ratio)."""
    now = level(values, period, additive)
    before = level(values, period.previous_year(), additive)
    if now is None or before is None or before.value <= 0:
        return None
    return (now.value / before.value - 1.0) * 100.0
