"""CSV dossier files read and parsed a column at a time with Apache Arrow.

`pyarrow.csv` reads a file in blocks on its own threads (C++, without the GIL) into text columns; this
module turns each block into the records `fast_rows.parse_table` would give for the same rows, with the
same rules, but on whole columns: moments are parsed from the column's bytes with numpy, codes checked
with one regular expression per column (RE2), small fields looked up per distinct value. It vouches for
exactly the rows `fast_rows` vouches for and answers None for the others, which the model then decides
(the property tests compare the two, and both with the model).

Arrow reads a narrower CSV than the stdlib `csv` module (no cell spanning lines, every line as wide as the
header, quotes only around whole cells): `read_blocks` raises `NotColumnar` for a file it cannot read
exactly as `readers.read_csv` would, and the caller reads that file with `readers` instead (which names
the faulty row).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, overload

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from cityops.services.dossiers.records import FLAG_BITS, SUPPLEMENT_PARTS, TIME_COLUMNS, Record
from cityops.services.importing.fast_rows import (
    _BAD,
    _BOOL,
    _LEVEL,
    _ORIGIN,
    _STATUS,
    KNOWN_COLUMNS,
    _fee,
    _short_ok,
    epoch_seconds,
    inconsistent,
)
from cityops.services.importing.readers import Chunk, FileFormatError, check_header

Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
NONE = -1
BLOCK_BYTES = 8 << 20  # ~35,000 rows of a typical file
_CODE = r"^[!-~]+-[0-9]{6}-[0-9]{4}$"  # `fast_rows._code_ok`: printable ASCII, no space
_CHANNEL = {"1": 1, "2": 2, "3": 3}
_PAID = {"1": 1, "2": 2}
_RATING = {"1": 1, "2": 2, "3": 3}
_SEPARATORS = {4: ord("-"), 7: ord("-"), 10: ord("T"), 13: ord(":"), 16: ord(":")}
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_OFFSET_DIGITS = [20, 21, 23, 24]


class NotColumnar(Exception):
    """Arrow cannot read this file exactly as the stdlib reader does: read it with `readers`."""


@dataclass(frozen=True)
class Block:
    header: tuple[str, ...]
    columns: dict[str, pa.StringArray]
    first: int  # the number of its first row (1 = the first row after the header)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def as_chunk(self) -> Chunk:
        """The block as `readers` would give it (its rows made one at a time, for the model's path)."""
        return Chunk(self.header, _Rows(self), range(self.first, self.first + len(self)))


class _Rows(Sequence[list[str]]):
    def __init__(self, block: Block) -> None:
        self.columns = [block.columns[name] for name in block.header]
        self.length = len(block)

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> list[str]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[list[str]]: ...
    def __getitem__(self, index: int | slice) -> list[str] | Sequence[list[str]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.length))]
        return [column[index].as_py() for column in self.columns]


def read_blocks(stream: IO[bytes], block_bytes: int = BLOCK_BYTES) -> Iterator[Block]:
    """The file's rows as blocks of text columns. Raises `NotColumnar` (before or while yielding: the
    caller starts again with `readers`), `readers.FileFormatError` for a header the import refuses."""
    head = stream.read(1 << 16)
    stream.seek(0)
    first_line = head.split(b"\n", 1)[0]
    if b'"' in first_line or b"\r" in first_line.rstrip(b"\r") or len(head) == len(first_line):
        raise NotColumnar("a quoted header, or no row")
    try:
        text = first_line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        raise NotColumnar("not UTF-8") from None
    try:
        header = check_header(text.split(","))
    except FileFormatError as error:
        raise NotColumnar(str(error)) from None
    if len(header) < 2:  # a blank line would read as one empty cell
        raise NotColumnar("a single column")
    options = pa_csv.ReadOptions(block_size=block_bytes, column_names=list(header), skip_rows=1)
    # No quoting: a quote stays in its cell, and `_check_quotes` sends the file to the stdlib reader.
    parse = pa_csv.ParseOptions(quote_char=False, newlines_in_values=False, ignore_empty_lines=False)
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False, check_utf8=True
    )
    try:
        reader = pa_csv.open_csv(stream, read_options=options, parse_options=parse, convert_options=convert)
        number = 1
        for batch in reader:
            columns = {name: batch.column(i) for i, name in enumerate(header)}
            blank = np.ones(batch.num_rows, dtype=np.bool_)
            for name in columns:
                _check_quotes(columns[name])
                blank &= np.diff(_offsets(columns[name])) == 0
            if blank.any():  # the stdlib reader skips a blank line, yet counts it
                raise NotColumnar("a blank line")
            yield Block(header, columns, number)
            number += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:  # ragged rows, bad UTF-8...
        raise NotColumnar(str(error)) from None


def _check_quotes(column: pa.StringArray) -> None:
    """A quote in a cell: the stdlib reader gives the file's quoting its meaning."""
    data = column.buffers()[2]
    if data is not None and np.frombuffer(data, dtype=np.uint8).__contains__(ord('"')):
        raise NotColumnar("a quote inside a cell")


def parse_block(block: Block) -> list[Record | None]:
    """`fast_rows.parse_table` of the block's rows."""
    header, cells, n = block.header, block.columns, len(block)
    if not KNOWN_COLUMNS.issuperset(header) or len(set(header)) != len(header):
        return [None] * n
    bad = np.zeros(n, dtype=np.bool_)
    empty_text = pa.array([""] * n, type=pa.string()) if len(cells) < len(KNOWN_COLUMNS) else None

    def column(name: str) -> pa.StringArray:
        found = cells.get(name)
        return empty_text if found is None else found

    if "supplements" in cells:  # a list of requests: the model's case
        bad |= _lengths(cells["supplements"]) > 0
    code = column("code")
    bad |= ~pc.match_substring_regex(code, _CODE).to_numpy(zero_copy_only=False)
    code_days = pc.utf8_slice_codeunits(code, -11, -5)
    bad |= ~_per_value(code_days, _code_day_ok, False)
    short = {}
    for name in ("procedure_code", "agency_code", "area_code"):
        values, ok = _canonical(column(name))
        short[name] = values
        bad |= ~ok
    small: dict[str, Int64s] = {}
    for name, table, optional in (
        ("channel", _CHANNEL, False),
        ("status", _STATUS, False),
        ("online_level", _LEVEL, True),
        ("paid_online", _PAID, True),
        ("rating", _RATING, True),
        ("due_origin", _ORIGIN, True),
    ):
        small[name] = _lookup(column(name), table)
        bad |= (small[name] == _BAD) | (False if optional else small[name] == NONE)
    times: dict[str, Int64s] = {}
    for name in TIME_COLUMNS:
        times[name] = moments(cells[name]) if name in cells else np.full(n, NONE, dtype=np.int64)
        bad |= times[name] < NONE
    supplements, waiting = _supplement(cells, n, bad)
    fee = _lookup(column("fee_vnd"), None)
    bad |= fee == _BAD
    flags = np.zeros(n, dtype=np.int64)
    for name, bit in FLAG_BITS.items():
        if name in cells:
            answers = _lookup(cells[name], _BOOL)
            bad |= answers == _BAD
            flags |= np.where(answers == 1, bit, 0)
    paid = small["paid_online"] != NONE
    bad |= inconsistent(times, small["status"], paid, np.maximum(fee, 0), waiting)
    if bad.all():
        return [None] * n
    columns: list[Sequence[Any]] = [
        code.to_pylist(),
        short["procedure_code"],
        short["agency_code"],
        short["area_code"],
        small["channel"].tolist(),
        _optional(small["online_level"]),
        small["status"].tolist(),
        *(_optional(times[name]) for name in ("status_at", "submitted_at", "received_at", "due_at")),
        np.maximum(small["due_origin"], 0).tolist(),
        *(_optional(times[name]) for name in TIME_COLUMNS[4:]),
        supplements,
        np.maximum(fee, 0).tolist(),
        _optional(small["paid_online"]),
        flags.tolist(),
        _optional(small["rating"]),
    ]
    records: list[Record | None] = list(zip(*columns, strict=True))
    for position in np.flatnonzero(bad).tolist():
        records[position] = None
    return records


def _lengths(column: pa.StringArray) -> Int64s:
    return pc.utf8_length(column).to_numpy(zero_copy_only=False).astype(np.int64)  # type: ignore[no-any-return]


def _code_day_ok(text: str) -> bool:
    from datetime import date

    try:
        date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return False
    return True


def _per_value(column: pa.StringArray, verdict: Any, default: Any) -> npt.NDArray[Any]:
    """`verdict` of each cell, called once per distinct value."""
    encoded = column.dictionary_encode()
    answers = np.array([verdict(v) for v in encoded.dictionary.to_pylist()] or [default])
    return answers[encoded.indices.to_numpy(zero_copy_only=False)]  # type: ignore[no-any-return]


def _canonical(column: pa.StringArray) -> tuple[list[str], Bools]:
    """The cells as one string object per distinct value (millions of rows share them), and which are
    well-formed short codes."""
    encoded = column.dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    objects = np.empty(max(1, len(distinct)), dtype=object)
    objects[: len(distinct)] = distinct
    ok = np.array([_short_ok(v) for v in distinct] or [False])
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    return objects[indices].tolist(), ok[indices]


def _lookup(column: pa.StringArray, table: dict[Any, Any] | None) -> Int64s:
    """Each cell through `table` (or as a fee, when None): NONE for an empty cell, _BAD for a value the
    table does not have."""

    def convert(value: str) -> int:
        if value == "":
            return NONE
        if table is None:
            fee = _fee(value)
            return _BAD if not 0 <= fee < 1 << 62 else fee
        found = table.get(value, _BAD)
        return int(found)

    return _per_value(column, convert, NONE).astype(np.int64)


def _optional(values: Int64s) -> list[int | None]:
    objects = values.astype(object)
    objects[values == NONE] = None
    return objects.tolist()  # type: ignore[no-any-return]


def moments(column: pa.StringArray) -> Int64s:
    """Epoch seconds of `YYYY-MM-DDTHH:MM:SS` with `Z` or `±HH:MM` cells (by the rules of
    `fast_rows._learn_day` and `_learn_clock`); NONE for an empty cell, _BAD for any other."""
    n = len(column)
    offsets = _offsets(column)
    lengths = np.diff(offsets)
    result = np.full(n, _BAD, dtype=np.int64)
    result[lengths == 0] = NONE
    rows = np.flatnonzero((lengths == 20) | (lengths == 25))
    data = column.buffers()[2]
    if not len(rows) or data is None:
        return result
    raw = np.frombuffer(data, dtype=np.uint8)
    index = np.minimum(offsets[rows, None] + np.arange(25), len(raw) - 1)
    chars = raw[index].astype(np.int64)
    zulu = lengths[rows] == 20
    ok = np.ones(len(rows), dtype=np.bool_)
    for position, char in _SEPARATORS.items():
        ok &= chars[:, position] == char
    sign = chars[:, 19]
    ok &= np.where(zulu, sign == ord("Z"), (sign == ord("+")) | (sign == ord("-")))
    ok &= zulu | (chars[:, 22] == ord(":"))
    digits = chars[:, _DIGITS] - ord("0")
    ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
    offset_digits = np.where(zulu[:, None], 0, chars[:, _OFFSET_DIGITS] - ord("0"))
    ok &= ((offset_digits >= 0) & (offset_digits <= 9)).all(axis=1)
    digits = np.where(ok[:, None], digits, 0)
    offset_digits = np.where(ok[:, None], offset_digits, 0)
    result[rows] = epoch_seconds(digits, offset_digits, sign, ok)
    return result


def _offsets(column: pa.StringArray) -> npt.NDArray[np.int32]:
    n = len(column)
    return np.frombuffer(column.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * column.offset)


def _supplement(cells: dict[str, pa.StringArray], n: int, bad: Bools) -> tuple[list[str | None], Bools]:
    """One supplement request given as columns (`fast_rows._supplement`); marks `bad` in place."""
    if not any(name in cells for name in SUPPLEMENT_PARTS):
        return [None] * n, np.zeros(n, dtype=np.bool_)
    absent = np.full(n, NONE, dtype=np.int64)
    requested, deadline, provided = (
        moments(cells[name]) if name in cells else absent for name in SUPPLEMENT_PARTS
    )
    for values in (requested, deadline, provided):
        bad |= values < NONE
    has_request = requested != NONE
    bad |= ~has_request & ((deadline != NONE) | (provided != NONE))
    bad |= has_request & (
        ((deadline != NONE) & (deadline < requested)) | ((provided != NONE) & (provided < requested))
    )
    text: list[str | None] = [None] * n
    for position in np.flatnonzero(has_request & (requested > NONE)).tolist():
        parts = [int(requested[position]), int(deadline[position]), int(provided[position])]
        text[position] = orjson.dumps([[None if p == NONE else p for p in parts]]).decode()
    waiting = has_request & (provided == NONE)
    return text, waiting
