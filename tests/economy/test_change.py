"""Year-on-year change on cumulative periods against a naive recomputation from the monthly figures."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from cityops.economy.change import level, year_on_year
from cityops.economy.periods import Period

amounts = st.floats(min_value=0.5, max_value=1e6, allow_nan=False, allow_infinity=False)
twelve = st.lists(amounts, min_size=12, max_size=12)


def monthly(year: int, amounts: list[float]) -> dict[Period, float]:
    return {Period.month(year, m): v for m, v in enumerate(amounts, start=1)}


@given(twelve, twelve, st.integers(min_value=1, max_value=12))
def test_cumulative_change_is_the_ratio_of_the_sums(
    this: list[float], last: list[float], months: int
) -> None:
    values = monthly(2021, this) | monthly(2020, last)
    naive = (sum(this[:months]) / sum(last[:months]) - 1.0) * 100.0
    computed = year_on_year(values, Period.cumulative(2021, months), additive=True)
    assert computed is not None
    assert math.isclose(computed, naive, rel_tol=1e-9, abs_tol=1e-9)


@given(twelve, twelve, st.integers(min_value=2, max_value=12), amounts)
def test_a_published_cumulative_figure_wins_over_the_sum(
    this: list[float], last: list[float], months: int, published: float
) -> None:
    period = Period.cumulative(2021, months)
    values = monthly(2021, this) | monthly(2020, last) | {period: published}
    computed = year_on_year(values, period, additive=True)
    assert computed is not None
    assert math.isclose(computed, (published / sum(last[:months]) - 1.0) * 100.0, rel_tol=1e-9)


@given(twelve, twelve, st.integers(min_value=2, max_value=12), st.data())
def test_a_missing_month_leaves_the_change_unknown(
    this: list[float], last: list[float], months: int, data: st.DataObject
) -> None:
    values = monthly(2021, this) | monthly(2020, last)
    gone = data.draw(st.integers(min_value=1, max_value=months))
    del values[Period.month(data.draw(st.sampled_from([2020, 2021])), gone)]
    assert year_on_year(values, Period.cumulative(2021, months), additive=True) is None


@given(twelve, twelve, st.integers(min_value=2, max_value=12))
def test_an_index_is_never_summed(this: list[float], last: list[float], months: int) -> None:
    values = monthly(2021, this) | monthly(2020, last)
    assert level(values, Period.cumulative(2021, months), additive=False) is None
    assert year_on_year(values, Period.cumulative(2021, months), additive=False) is None
    month = Period.month(2021, months)
    expected = (this[months - 1] / last[months - 1] - 1.0) * 100.0
    computed = year_on_year(values, month, additive=False)
    assert computed is not None
    assert math.isclose(computed, expected, rel_tol=1e-9, abs_tol=1e-9)
