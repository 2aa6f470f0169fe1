"""Reading the index: projecting a year's counters follows the targets' projection rule, localities add
their areas up, scopes parse or name what is wrong."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.services.index.accumulator import Aggregates
from cityops.services.index.scoring import Scope, combine, project_aggregates
from cityops.services.index.targets import project_year_end
from cityops.services.localities import AreaBook, AreaRuleError
from cityops.services.timing.calendar import VN_TZ

counts = st.integers(0, 10_000)


@st.composite
def parts(draw: st.DrawFn) -> tuple[int, int]:
    received = draw(st.integers(0, 10_000))
    return draw(st.integers(0, received)), received


@given(parts(), parts(), st.integers(1, 11))
def test_projected_counters_give_the_targets_projection(
    earlier: tuple[int, int], recent: tuple[int, int], month: int
) -> None:
    """The year so far = an earlier stretch and a recent month; projecting every counter gives the online
    share `targets.project_year_end` projects (window of one month)."""
    if recent[1] == 0:
        recent = (0, 1)
    as_of = datetime(2025, month, 15, tzinfo=VN_TZ)
    year = datetime(2026, 1, 1, tzinfo=VN_TZ) - datetime(2025, 1, 1, tzinfo=VN_TZ)
    elapsed = (as_of - datetime(2025, 1, 1, tzinfo=VN_TZ)) / year
    months = [earlier, recent] if earlier[1] else [recent]
    expected = project_year_end(months, as_of, window=1)
    ytd = Aggregates(received=earlier[1] + recent[1], online=earlier[0] + recent[0])
    projected = project_aggregates(ytd, Aggregates(received=recent[1], online=recent[0]), elapsed)
    assert expected is not None
    # Counters are whole numbers: the projected online count is rounded.
    assert projected.online / projected.received == pytest.approx(expected, abs=1 / projected.received)


def test_stocks_are_not_projected() -> None:
    ytd = Aggregates(received=100, overdue=7, carried_over=3, late=10)
    projected = project_aggregates(ytd, Aggregates(received=50, late=5, overdue=9), 0.5)
    assert (projected.received, projected.late, projected.overdue, projected.carried_over) == (200, 20, 7, 3)


def test_combining_adds_every_counter() -> None:
    one = Aggregates(*range(len(fields(Aggregates))))
    assert combine([one, one, Aggregates()]) == Aggregates(*(2 * v for v in range(len(fields(Aggregates)))))


@pytest.mark.parametrize("text", ["district", "agency:", "locality", "province:74", ""])
def test_a_scope_that_is_none_of_the_three_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="scope"):
        Scope.parse(text)


def test_localities_before_and_after_the_reform(area_book: AreaBook) -> None:
    legacy = area_book.localities("legacy")
    assert len(legacy) == 9
    thu_dau_mot = legacy["legacy:718"]
    assert thu_dau_mot[0] == "legacy:718" and "legacy:25741" in thu_dau_mot
    wards_2025 = area_book.localities("2025")
    successor = area_book.successors["legacy:25741"]
    assert "legacy:25741" in wards_2025[successor]
    every_legacy_ward = {
        a.code for a in area_book.areas.values() if a.scheme == "legacy" and a.level == "ward"
    }
    assert every_legacy_ward == {c for codes in legacy.values() for c in codes if c in every_legacy_ward}


def test_area_codes_must_exist_on_the_dossiers_day(area_book: AreaBook) -> None:
    from datetime import date

    before, after = date(2025, 6, 30).toordinal(), date(2025, 7, 1).toordinal()
    assert area_book.code_on("legacy:25741", before) == "legacy:25741"
    assert area_book.code_on("legacy:25741", after) == area_book.successors["legacy:25741"]
    with pytest.raises(AreaRuleError, match="no single successor"):
        area_book.code_on("legacy:718", after)
    successor = area_book.successors["legacy:25741"]
    with pytest.raises(AreaRuleError, match="exists from 2025-07-01"):
        area_book.code_on(successor, before)
    with pytest.raises(AreaRuleError, match="not a known area"):
        area_book.code_on("legacy:1", before)
