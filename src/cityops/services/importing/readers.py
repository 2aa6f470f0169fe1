"""Reading dossier files into chunks of rows: CSV (stdlib `csv`), XLSX (openpyxl, read-only), JSON and
NDJSON. Every format gives the same shape — a header of the `Dossier` model's field names and rows of
cells — so one import path serves them all.

Formats:
- The header names the model's fields (`code`, `procedure_code`, `received_at`...); one supplement
  request may be given as `supplement_requested_at`, `supplement_deadline`, `supplement_provided_at`,
  several as a JSON array in `supplements`. An empty cell is an absent value.
- Moments are ISO 8601 with `Z` or an offset; a moment without one is refused. XLSX date cells carry no
  time zone: they are read as Vietnam local time (Asia/Ho_Chi_Minh), the time the one-stop systems show.
- Rows are numbered from 1, the header excluded (for CSV: line `row + 1` when no cell spans lines).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Literal

import orjson

from cityops.core.tabular import NotAWorkbookError, header_names, xlsx_rows
from cityops.services.dossiers.records import MODEL_FIELDS, SUPPLEMENT_PARTS
from cityops.services.timing.calendar import VN_TZ

Format = Literal["csv", "xlsx", "json", "ndjson"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json", "ndjson")
KNOWN_COLUMNS = MODEL_FIELDS | set(SUPPLEMENT_PARTS)
CHUNK_ROWS = 50_000
csv.field_size_limit(1 << 20)


class FileFormatError(ValueError):
    """The file as a whole cannot be read (not CSV, no header, unknown column...)."""

    def __init__(self, field: str, message: str, row: int | None = None) -> None:
        where = f"row {row}: " if row is not None else ""
        super().__init__(f"{where}{field}: {message}")
        self.field, self.message, self.row = field, message, row


@dataclass(frozen=True)
class Chunk:
    header: tuple[str, ...]
    rows: Sequence[Sequence[Any]]
    numbers: Sequence[int]  # each row's number (1 = the first row after the header)

    def as_model_input(self, position: int) -> dict[str, Any]:
        """One row as the `Dossier` model's input: empty cells dropped, supplements gathered."""
        data: dict[str, Any] = {}
        supplement: dict[str, Any] = {}
        for name, value in zip(self.header, self.rows[position], strict=True):
            if value is None or value == "":
                continue
            if name in SUPPLEMENT_PARTS:
                supplement[SUPPLEMENT_PARTS[name]] = value
            elif name == "supplements" and isinstance(value, str):
                try:
                    data[name] = orjson.loads(value)
                except orjson.JSONDecodeError as error:
                    raise FileFormatError(name, f"is not a JSON array of requests: {error}") from None
            else:
                data[name] = value
        if supplement:
            if "supplements" in data:
                raise FileFormatError(
                    "supplements", "give one request in supplement_* columns or a list, not both"
                )
            data["supplements"] = [supplement]
        return data


def check_header(raw: Sequence[Any]) -> tuple[str, ...]:
    header = tuple(header_names(raw))
    if not any(header):
        raise FileFormatError("header", "the first row must name the columns (code, procedure_code, ...)")
    unknown = [name for name in header if name not in KNOWN_COLUMNS]
    if unknown:
        raise FileFormatError("header", f"unknown column(s) {unknown}; known: {sorted(KNOWN_COLUMNS)}")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise FileFormatError("header", f"column(s) {twice} appear more than once")
    if "code" not in header:
        raise FileFormatError("header", "the column 'code' (dossier code) is required")
    return header


def read_csv(stream: IO[bytes], chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = check_header(next(reader))
    except StopIteration:
        raise FileFormatError("file", "is empty") from None
    except UnicodeDecodeError as error:
        raise FileFormatError("file", f"is not UTF-8 text: {error}") from None
    yield from _csv_chunks(header, reader, chunk_rows)


def _csv_chunks(header: tuple[str, ...], reader: Iterator[list[str]], chunk_rows: int) -> Iterator[Chunk]:
    width = len(header)
    number = 0
    try:
        while batch := list(itertools.islice(reader, chunk_rows)):
            numbers: Sequence[int] = range(number + 1, number + len(batch) + 1)
            number += len(batch)
            if any(len(row) != width for row in batch):
                batch, numbers = _regular(batch, numbers, width)
            if batch:
                yield Chunk(header, batch, list(numbers))
    except UnicodeDecodeError as error:
        raise FileFormatError("file", f"is not UTF-8 text: {error}", number + 1) from None
    except csv.Error as error:
        raise FileFormatError("file", f"is not valid CSV: {error}", number + 1) from None


def _regular(batch: list[list[str]], numbers: Sequence[int], width: int) -> tuple[list[list[str]], list[int]]:
    """Blank lines dropped; a row of another width refused, naming it."""
    kept, kept_numbers = [], []
    for row, number in zip(batch, numbers, strict=True):
        if len(row) != width:
            if not any(row):
                continue
            raise FileFormatError("row", f"has {len(row)} cells, the header has {width}", number)
        kept.append(row)
        kept_numbers.append(number)
    return kept, kept_numbers


def read_xlsx(stream: IO[bytes], chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    try:
        with xlsx_rows(stream) as rows:
            try:
                header = check_header(next(rows))
            except StopIteration:
                raise FileFormatError("file", "is empty") from None
            yield from _chunks(header, _xlsx_rows(rows, len(header)), chunk_rows)
    except NotAWorkbookError as error:
        raise FileFormatError("file", str(error)) from None


def _xlsx_rows(rows: Iterable[Sequence[Any]], width: int) -> Iterator[tuple[int, list[Any]]]:
    row_number = 0
    for raw in rows:
        row_number += 1
        cells = [_xlsx_cell(value) for value in raw[:width]]
        if any(value not in (None, "") for value in raw[width:]):
            raise FileFormatError("row", f"has cells beyond the {width} named columns", row_number)
        if not any(value not in (None, "") for value in cells):
            continue
        cells.extend([None] * (width - len(cells)))
        yield row_number, cells


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_json(body: bytes, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """A JSON array of dossiers, or an object with a `dossiers` array."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise FileFormatError("body", f"is not valid JSON: {error}") from None
    if isinstance(document, dict) and "dossiers" in document:
        document = document["dossiers"]
    if not isinstance(document, list):
        raise FileFormatError("body", 'must be a JSON array of dossiers or {"dossiers": [...]}')
    yield from _object_chunks(document, chunk_rows)


def read_ndjson(body: bytes, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """One dossier (a JSON object) per line; blank lines are skipped."""

    def objects() -> Iterator[Any]:
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise FileFormatError("line", f"is not valid JSON: {error}", number) from None

    yield from _object_chunks(objects(), chunk_rows)


def _object_chunks(objects: Iterable[Any], chunk_rows: int) -> Iterator[Chunk]:
    batch: list[dict[str, Any]] = []
    numbers: list[int] = []
    for number, item in enumerate(objects, start=1):
        if not isinstance(item, dict):
            raise FileFormatError("row", "must be a JSON object", number)
        batch.append(item)
        numbers.append(number)
        if len(batch) == chunk_rows:
            yield _objects_to_chunk(batch, numbers)
            batch, numbers = [], []
    if batch:
        yield _objects_to_chunk(batch, numbers)


def _objects_to_chunk(objects: list[dict[str, Any]], numbers: list[int]) -> Chunk:
    names = list(dict.fromkeys(name for item in objects for name in item))
    header = check_header(names)
    rows = [[_json_cell(name, item.get(name)) for name in header] for item in objects]
    return Chunk(header, rows, numbers)


def _json_cell(name: str, value: Any) -> Any:
    if name == "supplements" and isinstance(value, list):
        return orjson.dumps(value).decode()
    return value


def _chunks(
    header: tuple[str, ...], rows: Iterator[tuple[int, list[Any]]], chunk_rows: int
) -> Iterator[Chunk]:
    batch: list[list[Any]] = []
    numbers: list[int] = []
    for number, row in rows:
        batch.append(row)
        numbers.append(number)
        if len(batch) == chunk_rows:
            yield Chunk(header, batch, numbers)
            batch, numbers = [], []
    if batch:
        yield Chunk(header, batch, numbers)


def read(format: Format, stream: IO[bytes], chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    if format == "csv":
        return read_csv(stream, chunk_rows)
    if format == "xlsx":
        return read_xlsx(stream, chunk_rows)
    body = stream.read()
    return read_json(body, chunk_rows) if format == "json" else read_ndjson(body, chunk_rows)
