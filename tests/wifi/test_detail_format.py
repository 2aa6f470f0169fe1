"""FreeRADIUS's detail format: what FreeRADIUS writes is read back exactly; anything else is refused with
a `DetailError` naming the line, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.wifi.detail_format import (
    Chunk,
    DetailError,
    DetailRecord,
    complete_records,
    decode,
    format_record,
    parse_record,
)

# What FreeRADIUS 3.2 wrote for `User-Name = "a\"b c"` and a Reply-Message holding a newline and "é".
WRITTEN_BY_FREERADIUS = (
    "Fri Dec  4 18:40:56 2026\n"
    '\tUser-Name = "a\\"b c"\n'
    "\tAcct-Status-Type = Start\n"
    '\tAcct-Session-Id = "s1"\n'
    "\tAcct-Input-Octets = 5\n"
    '\tReply-Message = "x\\ny é"\n'
    '\tFreeRADIUS-Client-Shortname = "nas-park"\n'
    "\tTimestamp = 1796409656\n"
    "\n"
)

names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,30}", fullmatch=True)
headers = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), min_size=1).filter(
    lambda h: h.strip() != "" and not h.startswith("\t")
)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
records = st.builds(DetailRecord, headers, st.lists(st.tuples(names, values), max_size=12).map(tuple))


def test_what_freeradius_writes() -> None:
    (chunk,) = complete_records(WRITTEN_BY_FREERADIUS.encode(), 100)
    assert (chunk.start, chunk.end) == (100, 100 + len(WRITTEN_BY_FREERADIUS.encode()))
    values = decode(chunk).first_values()
    assert values["User-Name"] == 'a"b c'
    assert values["Reply-Message"] == "x\ny é"
    assert values["Acct-Status-Type"] == "Start" and values["Timestamp"] == "1796409656"


@given(records)
def test_round_trip(record: DetailRecord) -> None:
    text = format_record(record)
    assert text.endswith("\n\n") and "\n\n" not in text[:-2]
    assert parse_record(text[:-2]) == record


@given(st.lists(records, min_size=1, max_size=5), st.integers(0, 10**9), st.data())
def test_only_complete_records_are_taken(batch: list[DetailRecord], offset: int, data: st.DataObject) -> None:
    text = "".join(format_record(r) for r in batch).encode()
    cut = data.draw(st.integers(0, len(text)))
    chunks = complete_records(text[:cut], offset)
    assert [decode(c) for c in chunks] == batch[: len(chunks)]
    taken = chunks[-1].end - offset if chunks else 0
    assert taken <= cut and (cut == len(text)) == (len(chunks) == len(batch))
    rest = complete_records(text[taken:], offset + taken)
    assert [decode(c) for c in rest] == batch[len(chunks) :]


@given(st.binary(max_size=300))
def test_garbage_is_refused_with_a_clear_error_never_a_crash(garbage: bytes) -> None:
    for chunk in complete_records(garbage + b"\n\n", 0):
        try:
            decode(chunk)
        except DetailError as exc:
            assert exc.line >= 1 and str(exc).startswith(f"line {exc.line}: ")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("\tUser-Name = x", 1, "header"),
        ("Fri\nUser-Name = x", 2, "tab"),
        ("Fri\n\tUser-Name: x", 2, "Name = value"),
        ('Fri\n\tUser-Name = "open', 2, "end with"),
        ('Fri\n\tUser-Name = "a"b"', 2, "unescaped"),
        ('Fri\n\tUser-Name = "a\\qb"', 2, "unknown escape"),
        ("Fri\n\tBad Name = x", 2, "not an attribute name"),
        ("Fri\n\tUser-Name = two words", 2, "one word"),
    ],
)
def test_each_mistake_is_named(text: str, line: int, says: str) -> None:
    with pytest.raises(DetailError) as caught:
        parse_record(text)
    assert caught.value.line == line and says in caught.value.message


def test_not_utf8_and_too_long() -> None:
    with pytest.raises(DetailError, match="line 2: not UTF-8"):
        decode(Chunk(b'Fri\n\tUser-Name = "\xff"', 0, 0))
    with pytest.raises(DetailError, match="longer than"):
        decode(Chunk(b"Fri\n\tA = " + b"x" * 70_000, 0, 0))
