"""Column-at-a-time parsing of the common, well-formed rows of a bulk import.

Validating a row through the `Dossier` model costs ~25 µs; a province-year is millions of rows. This path
converts a whole chunk one column at a time (dictionary lookups of the distinct values, cached day and
time-of-day parts of ISO 8601 moments) and checks the model's cross-field rules on arrays. It vouches only
for rows it fully understands — ASCII codes, `YYYY-MM-DDTHH:MM:SS` with `Z` or an offset, plain digits,
at most one supplement request, given as columns — and answers None for any other row, which the model
then decides. The property tests check that every record it returns is the one the model gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from cityops.services.dossiers.records import FLAG_BITS, MODEL_FIELDS, SUPPLEMENT_PARTS, TIME_COLUMNS, Record

Bools = npt.NDArray[np.bool_]
Int64s = npt.NDArray[np.int64]
NONE = -1  # an absent moment in the check arrays (accepted moments are after 1971)
_BAD = -(1 << 60)  # a moment this path does not vouch for; sums with it stay negative
_CACHE_LIMIT = 400_000
_DAYS: dict[str, int] = {}
_CLOCKS: dict[str, int] = {}
_DAY = re.compile(r"(\d\d\d\d)-(\d\d)-(\d\d)", re.ASCII)
_CLOCK = re.compile(r"T(\d\d):(\d\d):(\d\d)(?:(Z)|([+-])(\d\d):(\d\d))", re.ASCII)
_EPOCH = date(1970, 1, 1).toordinal()
_CODE = re.compile(r"(\S+)-(\d\d)(\d\d)(\d\d)-\d{4}", re.ASCII)
_STATUS = {str(n): n for n in range(1, 11)} | {
    "receiving": 1,
    "new": 2,
    "denied": 3,
    "processing": 4,
    "waiting": 5,
    "paying": 6,
    "cancelled": 7,
    "unresolved": 8,
    "releasing": 9,
    "done": 10,
}
_LEVEL = {"1": 2, "2": 2, "3": 3, "4": 4, "none": 2, "partial": 3, "full": 4}
_BOOL: dict[Any, bool] = {
    "0": False,
    "1": True,
    "true": True,
    "false": False,
    "True": True,
    "False": False,
    True: True,  # and 1
    False: False,  # and 0
}
_ORIGIN = {"source": 0, "calendar": 1}
_LOOKUP_TYPES = frozenset((str, int, type(None)))
_YES_NO_TYPES = _LOOKUP_TYPES | {bool}
_NEEDS_RECEIPT = (2, 4, 6, 8, 9, 10)
_STATUS_DATE = {3: "refused_at", 7: "cancelled_at", 8: "stopped_at", 9: "finished_at"}
_AFTER_RECEIPT = ("due_at", "finished_at", "returned_at", "refused_at", "cancelled_at", "stopped_at")
KNOWN_COLUMNS = MODEL_FIELDS | set(SUPPLEMENT_PARTS)


def parse_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Record | None]:
    """One record per row (every row as long as `header`; "" and None are empty cells), or None where
    the model must decide."""
    n = len(rows)
    if not n:
        return []
    if not KNOWN_COLUMNS.issuperset(header) or len(set(header)) != len(header):
        return [None] * n
    try:
        return _parse(header, rows, n)
    except TypeError:  # an unhashable cell (a list, an object): the model says what is wrong
        return [None] * n


def _parse(header: Sequence[str], rows: Sequence[Sequence[Any]], n: int) -> list[Record | None]:
    cells: dict[str, tuple[Any, ...]] = dict(zip(header, zip(*rows, strict=True), strict=True))
    empty: tuple[Any, ...] = (None,) * n
    bad = np.zeros(n, dtype=np.bool_)

    def column(name: str) -> Sequence[Any]:
        found: Sequence[Any] = cells.get(name, empty)
        return found

    def mark(flags: Sequence[bool]) -> None:
        nonlocal bad
        bad |= np.fromiter(flags, dtype=np.bool_, count=n)

    if "supplements" in cells:  # a list of requests: the model's case
        mark([v not in ("", None) for v in cells["supplements"]])
    code = list(column("code"))
    mark([not _code_ok(v) for v in code])
    short: dict[str, list[Any]] = {}
    for name in ("procedure_code", "agency_code", "area_code"):
        values = column(name)
        distinct = set(values)
        if not all(map(_short_ok, distinct)):
            verdict = {v: _short_ok(v) for v in distinct}
            mark([not verdict[v] for v in values])
        canonical = {v: v for v in distinct}  # one string object per code: millions of rows share them
        short[name] = [canonical[v] for v in values]
    small = {
        "channel": _lookup(column("channel"), {str(n): n for n in (1, 2, 3)} | {1: 1, 2: 2, 3: 3}, mark),
        "status": _lookup(column("status"), _STATUS | {n: n for n in range(1, 11)}, mark),
        "online_level": _lookup(
            column("online_level"), _LEVEL | {1: 2, 2: 2, 3: 3, 4: 4}, mark, optional=True
        ),
        "paid_online": _lookup(column("paid_online"), {"1": 1, "2": 2, 1: 1, 2: 2}, mark, optional=True),
        "rating": _lookup(column("rating"), {"1": 1, "2": 2, "3": 3, 1: 1, 2: 2, 3: 3}, mark, optional=True),
    }
    origin = _lookup(column("due_origin"), _ORIGIN, mark, optional=True)
    times: dict[str, Sequence[int | None]] = {}
    arrays: dict[str, Int64s] = {}
    for name in TIME_COLUMNS:
        if name in cells:
            times[name] = _moments(cells[name])
            arrays[name] = np.array([NONE if v is None else v for v in times[name]], dtype=np.int64)
            bad |= arrays[name] < NONE
        else:
            times[name], arrays[name] = empty, np.full(n, NONE, dtype=np.int64)
    supplements, waiting = _supplement(cells, empty, n, mark)
    fee = _fees(column("fee_vnd"), mark)
    flags = np.zeros(n, dtype=np.int64)
    for name, bit in FLAG_BITS.items():
        if name in cells:
            values = _lookup(cells[name], _BOOL, mark, optional=True)
            flags |= np.array([bit if v else 0 for v in values], dtype=np.int64)
    if bad.all():
        return [None] * n
    status = np.array([0 if v is None else v for v in small["status"]], dtype=np.int64)
    paid = np.array([v is not None for v in small["paid_online"]], dtype=np.bool_)
    bad |= inconsistent(arrays, status, paid, np.array(fee, dtype=np.int64), waiting)
    columns: list[Sequence[Any]] = [
        code,
        short["procedure_code"],
        short["agency_code"],
        short["area_code"],
        small["channel"],
        small["online_level"],
        small["status"],
        times["status_at"],
        times["submitted_at"],
        times["received_at"],
        times["due_at"],
        [0 if v is None else v for v in origin],
        times["finished_at"],
        times["returned_at"],
        times["refused_at"],
        times["cancelled_at"],
        times["stopped_at"],
        supplements,
        fee,
        small["paid_online"],
        flags.tolist(),
        small["rating"],
    ]
    records: list[Record | None] = list(zip(*columns, strict=True))
    if bad.any():
        for position in np.flatnonzero(bad).tolist():
            records[position] = None
    return records


def _supplement(
    cells: dict[str, tuple[Any, ...]], empty: tuple[Any, ...], n: int, mark: Callable[[Sequence[bool]], None]
) -> tuple[Sequence[str | None], Bools]:
    """One supplement request given as columns: the record's JSON, and whether it is still open."""
    if not any(name in cells for name in SUPPLEMENT_PARTS):
        return empty, np.zeros(n, dtype=np.bool_)
    requested, deadline, provided = (
        _moments(cells[name]) if name in cells else empty for name in SUPPLEMENT_PARTS
    )
    for values in (requested, deadline, provided):
        mark([v is not None and v < 0 for v in values])
    mark(
        [
            (r is None and (d is not None or p is not None))
            or (r is not None and ((d is not None and d < r) or (p is not None and p < r)))
            for r, d, p in zip(requested, deadline, provided, strict=True)
        ]
    )
    text = [
        None if r is None else orjson.dumps([[r, d, p]]).decode()
        for r, d, p in zip(requested, deadline, provided, strict=True)
    ]
    waiting = np.array([r is not None and p is None for r, p in zip(requested, provided, strict=True)])
    return text, waiting


def _lookup(
    values: Sequence[Any],
    table: dict[Any, Any],
    mark: Callable[[Sequence[bool]], None],
    optional: bool = False,
) -> list[Any]:
    """Each value through `table` (empty cells give None). Only text and whole numbers are looked up (and
    booleans for yes/no fields): the model reads a float or a boolean differently from field to field, and
    a dictionary would take 2.0 and True for 2 and 1."""
    allowed = _YES_NO_TYPES if table is _BOOL else _LOOKUP_TYPES
    if not set(map(type, values)) <= allowed:
        mark([type(v) not in allowed for v in values])
        values = [v if type(v) in allowed else None for v in values]
    converted = [None if v is None or v == "" else table.get(v, _BAD) for v in values]
    if _BAD in converted or (not optional and None in converted):
        mark([v is _BAD or (v is None and not optional) for v in converted])
        converted = [None if v is _BAD else v for v in converted]
    return converted


def _fees(values: Sequence[Any], mark: Callable[[Sequence[bool]], None]) -> list[int]:
    known = {v: _fee(v) for v in set(values)}
    converted = [known[v] for v in values]
    mark([v < 0 for v in converted])
    return [max(v, 0) for v in converted]


def _fee(value: Any) -> int:
    if value in ("", None):
        return 0
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit() and (value[0] != "0" or value == "0"):
        return int(value)
    return -1


def _moments(values: Sequence[Any]) -> list[int | None]:
    """Epoch seconds; None for an empty cell, a negative number where this path does not vouch."""
    kinds = set(map(type, values))
    if kinds == {str} and set(map(len, values)) <= {0, 25}:
        return _offset_moments(values)
    if kinds <= {str, type(None)}:
        days, clocks = _DAYS, _CLOCKS
        return [
            None
            if not v
            else (days.get(v[:10]) or _learn_day(v[:10])) + (clocks.get(v[10:]) or _learn_clock(v[10:]))
            for v in values
        ]
    return [_moment(v) for v in values]


_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24]
_SEPARATORS = {4: ord("-"), 7: ord("-"), 10: ord("T"), 13: ord(":"), 16: ord(":"), 22: ord(":")}


def _offset_moments(values: Sequence[str]) -> list[int | None]:
    """`YYYY-MM-DDTHH:MM:SS±HH:MM` strings (or empty ones) on arrays, by the rules of `_learn_day` and
    `_learn_clock`."""
    text = np.array(values, dtype="U25")
    present = np.array([bool(v) for v in values], dtype=np.bool_)
    chars = text.view(np.uint32).reshape(len(values), 25)[present].astype(np.int64)
    ok = np.ones(len(chars), dtype=np.bool_)
    for position, char in _SEPARATORS.items():
        ok &= chars[:, position] == char
    sign = chars[:, 19]
    ok &= (sign == ord("+")) | (sign == ord("-"))
    digits = chars[:, _DIGITS] - ord("0")
    ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
    digits = np.where(ok[:, None], digits, 0)
    found = iter(epoch_seconds(digits[:, :14], digits[:, 14:], sign, ok).tolist())
    return [next(found) if p else None for p in present.tolist()]


def epoch_seconds(digits: Int64s, offset_digits: Int64s, sign: Int64s, ok: npt.NDArray[np.bool_]) -> Int64s:
    """Epoch seconds (or _BAD) of `YYYY-MM-DDTHH:MM:SS±HH:MM` moments taken apart into arrays: `digits` the
    14 of the date and time, `offset_digits` the 4 of the offset (zeros for `Z`), `sign` the offset's
    character, `ok` the rows whose characters passed (their digits are zeros elsewhere). Checks the
    ranges (1971–2100, real calendar days, offsets up to ±14:00, no "-00:00") by the rules of
    `_learn_day` and `_learn_clock`."""

    def number(values: Int64s, first: int, width: int) -> Int64s:
        value = np.zeros(len(values), dtype=np.int64)
        for k in range(first, first + width):
            value = value * 10 + values[:, k]
        return value

    year, month, day = number(digits, 0, 4), number(digits, 4, 2), number(digits, 6, 2)
    hour, minute, second = number(digits, 8, 2), number(digits, 10, 2), number(digits, 12, 2)
    offset_minutes = number(offset_digits, 2, 2)
    offset = number(offset_digits, 0, 2) * 3600 + offset_minutes * 60
    ok = ok & (year >= 1971) & (year <= 2100) & (month >= 1) & (month <= 12) & (day >= 1)
    ok &= (hour < 24) & (minute < 60) & (second < 60) & (offset_minutes < 60) & (offset <= 14 * 3600)
    ok &= ~((sign == ord("-")) & (offset == 0))
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    ok &= days.astype("datetime64[M]") == months  # 30 February and the like
    seconds = days.astype(np.int64) * 86_400 + hour * 3600 + minute * 60 + second
    seconds -= np.where(sign == ord("-"), -offset, offset)
    return np.where(ok, seconds, _BAD)


def _moment(value: Any) -> int | None:
    if value in ("", None):
        return None
    if type(value) is str:
        return (_DAYS.get(value[:10]) or _learn_day(value[:10])) + (
            _CLOCKS.get(value[10:]) or _learn_clock(value[10:])
        )
    if type(value) is datetime and value.tzinfo is not None and not value.microsecond and value.year > 1970:
        return int(value.timestamp())
    return _BAD


def _learn_day(text: str) -> int:
    """Epoch seconds of UTC midnight starting `YYYY-MM-DD` (1971–2100), else a bad value."""
    match = _DAY.fullmatch(text)
    seconds = _BAD
    if match is not None:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            day = None
        if day is not None and 1971 <= day.year <= 2100:
            seconds = (day.toordinal() - _EPOCH) * 86_400
    if len(_DAYS) < _CACHE_LIMIT:
        _DAYS[text] = seconds
    return seconds


def _learn_clock(text: str) -> int:
    """Seconds from UTC midnight of `THH:MM:SS` with `Z` or an offset up to ±14:00, else a bad value."""
    match = _CLOCK.fullmatch(text)
    seconds = _BAD
    if match is not None:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3])
        if hour < 24 and minute < 60 and second < 60:
            seconds = hour * 3600 + minute * 60 + second
            if match[4] is None:
                offset = int(match[6]) * 3600 + int(match[7]) * 60
                if int(match[7]) >= 60 or offset > 14 * 3600 or (match[5] == "-" and offset == 0):
                    seconds = _BAD
                else:
                    seconds -= offset if match[5] == "+" else -offset
    if len(_CLOCKS) < _CACHE_LIMIT:
        _CLOCKS[text] = seconds
    return seconds


def _code_ok(value: Any) -> bool:
    if type(value) is not str or not _plain(value):
        return False
    match = _CODE.fullmatch(value)
    if match is None:
        return False
    try:
        date(2000 + int(match[2]), int(match[3]), int(match[4]))
    except ValueError:
        return False
    return True


def _short_ok(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= 64 and _plain(value)


def _plain(text: str) -> bool:
    """Printable ASCII without spaces: `\\S+` for every regex engine."""
    return text.isascii() and text.isprintable() and " " not in text


def inconsistent(t: dict[str, Int64s], status: Int64s, paid: Bools, fee: Int64s, waiting: Bools) -> Bools:
    """The model's cross-field rules (`Dossier._consistent`), on arrays (NONE for an absent moment or
    status, `paid`: a payment channel is given)."""
    received = t["received_at"]
    has_receipt = received != NONE
    bad: Bools = has_receipt & (t["submitted_at"] != NONE) & (received < t["submitted_at"])
    for name in _AFTER_RECEIPT:
        bad |= has_receipt & (t[name] != NONE) & (t[name] < received)
    finished, returned = t["finished_at"], t["returned_at"]
    bad |= (finished != NONE) & (returned != NONE) & (returned < finished)
    bad |= np.isin(status, _NEEDS_RECEIPT) & ~has_receipt
    for code, name in _STATUS_DATE.items():
        bad |= (status == code) & (t[name] == NONE)
    bad |= (status == 10) & (returned == NONE) & (finished == NONE)
    bad |= paid & (fee == 0)
    bad |= (status == 5) & ~waiting  # waiting needs an open supplement request
    return bad
