"""Reading a statistics office's table from CSV (UTF-8, `,` or `;` separated) or XLSX (the first sheet,
through the kernel's `tabular` reader as the services import does) into rows of cells, numbered as a spreadsheet numbers them
(row 1 is the header)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import IO, Any, Literal

from cityops.core.tabular import NotAWorkbookError, header_names, xlsx_rows

Format = Literal["csv", "xlsx"]
MAX_ROWS = 2_000
MAX_COLUMNS = 200


class SheetError(ValueError):
    def __init__(self, reason: str, row: int | None = None) -> None:
        super().__init__(reason if row is None else f"row {row}: {reason}")
        self.reason, self.row = reason, row


@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells), blank rows left out


def read(format: Format, stream: IO[bytes]) -> Sheet:
    raw = _csv_rows(stream) if format == "csv" else _xlsx_rows(stream)
    if not raw:
        raise SheetError("the file is empty")
    header = header_names(raw[0])
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise SheetError(f"more than {MAX_COLUMNS} columns", 1)
    rows = []
    for number, cells in enumerate(raw[1:], start=2):
        if not any(cell not in (None, "") for cell in cells):
            continue
        if any(cell not in (None, "") for cell in cells[len(header) :]):
            raise SheetError(f"has cells beyond the {len(header)} named columns", number)
        rows.append((number, [*cells[: len(header)], *[None] * (len(header) - len(cells))]))
        if len(rows) > MAX_ROWS:
            raise SheetError(f"more than {MAX_ROWS} rows", number)
    return Sheet(header, rows)


def _csv_rows(stream: IO[bytes]) -> list[list[Any]]:
    try:
        text = stream.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SheetError(f"the file is not UTF-8 text: {error}") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as error:
        raise SheetError(f"the file is not valid CSV: {error}") from None


def _xlsx_rows(stream: IO[bytes]) -> list[list[Any]]:
    try:
        with xlsx_rows(stream) as sheet_rows:
            rows = []
            for row in sheet_rows:
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 1:
                    raise SheetError(f"more than {MAX_ROWS} rows", len(rows))
            return rows
    except NotAWorkbookError as error:
        raise SheetError(f"the file {error}") from None
