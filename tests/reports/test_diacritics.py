"""Vietnamese typed without diacritics is recognised; real Vietnamese, English and other text are not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.reports.diacritics import lacks_diacritics, marked_syllables, strip_marks, unmarked_syllables

MARKED = sorted(marked_syllables())
STRONG = sorted(w for w in MARKED if strip_marks(w) in unmarked_syllables() and strip_marks(w) != w)


@pytest.mark.parametrize(
    "text",
    [
        "duong bi ngap nuoc sau tran mua lon",
        "hem 12 duong Yersin co nhieu rac thai chua duoc thu gom",
        "Den duong khong sang o phuong Phu Cuong",
    ],
)
def test_vietnamese_without_marks_is_flagged(text: str) -> None:
    assert lacks_diacritics(text)


@pytest.mark.parametrize(
    "text",
    [
        "Đường bị ngập nước sau trận mưa lớn",
        "Hẻm 12 đường Yersin có nhiều rác thải chưa được thu gom",
        "The street light on Yersin road has been broken for a week",
        "Hola, la calle está inundada desde ayer",
        "道路が冠水しています",
        "Ga Thu Dau Mot",  # a proper name alone is not a sentence to correct
        "",
    ],
)
def test_real_vietnamese_and_other_languages_pass(text: str) -> None:
    assert not lacks_diacritics(text)


@given(st.lists(st.sampled_from(STRONG), min_size=3, max_size=30))
def test_the_same_words_stripped_are_flagged_and_with_marks_are_not(words: list[str]) -> None:
    text = " ".join(words)
    assert lacks_diacritics(strip_marks(text))
    assert not lacks_diacritics(text)


@given(
    st.lists(st.sampled_from(sorted(unmarked_syllables())), min_size=1, max_size=30),
    st.lists(st.sampled_from(STRONG), min_size=1, max_size=5),
    st.randoms(),
)
def test_adding_diacritics_never_triggers_the_flag(
    plain: list[str], marked: list[str], shuffle: st.SearchStrategy[object]
) -> None:
    words = plain + marked
    shuffle.shuffle(words)  # type: ignore[attr-defined]
    assert not lacks_diacritics(" ".join(words))


@given(st.text(alphabet=st.characters(codec="ascii", categories=["Lu", "Ll", "Zs", "Nd"]), max_size=200))
def test_a_text_with_a_vietnamese_mark_is_never_flagged(text: str) -> None:
    assert not lacks_diacritics(text + " đường")
