"""Periods: every written form names the period it should, and a month out of range is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.economy.periods import Period, PeriodError, parse

years = st.integers(min_value=1990, max_value=2100)
months = st.integers(min_value=1, max_value=12)
periods = st.one_of(
    st.builds(Period.month, years, months),
    st.builds(Period.cumulative, years, months),
)


@given(periods)
def test_every_written_form_reads_back(period: Period) -> None:
    assert parse(period.key) == period
    assert parse(period.label("vi")) == period
    assert parse(period.label("vi").upper()) == period


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-09", Period.month(2021, 9)),
        ("Tháng 9/2021", Period.month(2021, 9)),
        ("T9/2021", Period.month(2021, 9)),
        ("9 tháng năm 2021", Period.cumulative(2021, 9)),
        ("9 tháng 2021", Period.cumulative(2021, 9)),
        ("9T/2021", Period.cumulative(2021, 9)),
        ("2021-01..09", Period.cumulative(2021, 9)),
        ("Năm 2021", Period.cumulative(2021, 12)),
        ("2021", Period.cumulative(2021, 12)),
        ("  tháng  1/2021 ", Period.cumulative(2021, 1)),
    ],
)
def test_statistics_office_forms(text: str, expected: Period) -> None:
    assert parse(text) == expected


@given(years, st.integers(min_value=13, max_value=99) | st.just(0))
def test_a_month_out_of_range_is_refused(year: int, month: int) -> None:
    for text in (f"{year}-{month:02d}", f"Tháng {month}/{year}", f"{month} tháng năm {year}"):
        with pytest.raises(PeriodError, match="out of range"):
            parse(text)


def test_labels_in_three_languages() -> None:
    nine = Period.cumulative(2021, 9)
    assert [nine.label(lang) for lang in ("vi", "en", "ja")] == [
        "9 tháng năm 2021",
        "9 months of 2021",
        "2021年1～9月",
    ]
    assert Period.month(2026, 11).label("ja") == "2026年11月"
    assert nine.previous_year() == Period.cumulative(2020, 9)


def test_not_a_period() -> None:
    with pytest.raises(PeriodError, match="is not a period"):
        parse("Quý 3/2021")
