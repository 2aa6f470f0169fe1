"""Readings in each language's own format: Vietnamese groups thousands with dots and writes decimals
with a comma, never a decimal point; units and states in words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cityops.core import units
from cityops.core.domain import LANGUAGES

values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(values)
def test_vietnamese_numbers_read_back_to_the_rounded_value(value: float) -> None:
    text = units.number(value, "vi")
    integer, _, decimals = text.partition(",")
    assert "," not in decimals and len(decimals) <= 1
    groups = integer.lstrip("-").split(".")
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
    assert float(text.replace(".", "").replace(",", ".")) == round(value, 1) or abs(round(value, 1)) == 0


@given(values)
def test_english_and_vietnamese_say_the_same_number(value: float) -> None:
    english = units.number(value, "en")
    assert float(english.replace(",", "")) == float(
        units.number(value, "vi").replace(".", "").replace(",", ".")
    )


def test_readings() -> None:
    assert units.reading(1234.5, "vehicles/min", "vi") == "1.234,5 xe/phút"
    assert units.reading(1234.5, "vehicles/min", "en") == "1,234.5 vehicles/min"
    assert units.reading(95.26, "%", "vi") == "95,3%"
    assert units.reading(0, "1 up / 0 down", "vi") == "mất tín hiệu"
    assert units.reading(3, "0-3", "ja") == "渋滞"
    assert units.reading(0.5, "1 up / 0 down", "vi") == "0,5"
    assert units.reading(488, "dossiers", "vi") == "488 hồ sơ"


def test_the_dashboard_gets_the_same_words() -> None:
    for language in LANGUAGES:
        texts = units.interface_texts(language)
        assert texts["unit.dossiers"] == units.UNITS["dossiers"][language]
        assert texts["value.1 up / 0 down.0"] == units.STATES["1 up / 0 down"][0][language]
        assert all(text.strip() == text and text for text in texts.values())
