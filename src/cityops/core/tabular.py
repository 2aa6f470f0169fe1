"""What every domain's table import shares: the header row's names, and the rows of an XLSX workbook's
first sheet (openpyxl, read-only, formulas' cached values), with the ways a file can fail to be one
turned into one error."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any


class NotAWorkbookError(ValueError):
    """The bytes are not an XLSX workbook openpyxl can read."""


def header_names(raw: Sequence[Any]) -> list[str]:
    """A header row's cells as names: stripped, no byte-order mark, empty cells as ""."""
    return ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in raw]


@contextmanager
def xlsx_rows(stream: IO[bytes]) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The first sheet's rows as tuples of cell values; the workbook is closed on leaving."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise NotAWorkbookError(f"is not an XLSX workbook: {error}") from None
    try:
        yield workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()
