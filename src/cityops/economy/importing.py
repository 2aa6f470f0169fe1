"""Turning a statistics office's table into figures, all or nothing.

Layout (one row per series, one column per period, as the office's monthly tables):

    Mã chỉ tiêu | Chỉ tiêu           | Đơn vị tính | Tháng 9/2021 | 9 tháng năm 2021 | 9 tháng năm 2021 (% cùng kỳ)
    exports     | Kim ngạch xuất khẩu | triệu USD   | 2 650        | 23 100           | 26,7

- `Mã chỉ tiêu` (or `series`): the series code; `Đơn vị tính` (or `ĐVT`, `unit`): must be the series'
  unit; `Chỉ tiêu` (or `name`) is shown to people and not read.
- Every other column names a period (see `periods.parse`); a period followed by `(% cùng kỳ)` or
  `(% yoy)` holds the change on the same period of the previous year as published.
- Numbers use `.` or `,` as the decimal mark; spaces and a thousands mark beside a decimal mark are
  allowed (`23 100`, `1.234,5`). An empty cell is no figure.
Every problem is reported with its row (as the spreadsheet numbers it), column and reason; nothing is
stored when there is one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from cityops.economy.catalogue import Series
from cityops.economy.figures import NewFigure
from cityops.economy.periods import Period, PeriodError, parse
from cityops.economy.sheets import Sheet
from cityops.economy.units import unit_code

SERIES_NAMES = {"mã chỉ tiêu", "mã", "series", "code"}
UNIT_NAMES = {"đơn vị tính", "đvt", "unit"}
LABEL_NAMES = {"chỉ tiêu", "tên chỉ tiêu", "name"}
CHANGE_SUFFIX = re.compile(r"^(.*?)\s*\(\s*%?\s*(?:so\s+)?(?:cùng kỳ|yoy)\s*\)$", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class ImportRefused(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"row {p.row}, {p.column}: {p.reason}" for p in problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class Column:
    index: int
    name: str  # as written, with its letter: "D (Tháng 9/2021)"
    period: Period
    change: bool  # holds the published % change, not the value


@dataclass(frozen=True)
class Located:
    """A figure and the cell it came from, so a later refusal can name it."""

    figure: NewFigure
    row: int
    column: str


def figures_of(sheet: Sheet, known: dict[str, Series], source: str) -> list[Located]:
    problems: list[Problem] = []
    roles = _roles(sheet.header, problems)
    columns = _period_columns(sheet.header, roles, problems)
    if problems:
        raise ImportRefused(problems)
    series_at, unit_at = roles["series"], roles.get("unit")
    located: dict[tuple[str, Period], dict[str, Any]] = {}
    seen_rows: dict[str, int] = {}
    series_column = _name(sheet.header, series_at)
    for number, cells in sheet.rows:
        code = "" if cells[series_at] is None else str(cells[series_at]).strip()
        series = known.get(code)
        if series is None:
            problems.append(Problem(number, series_column, f"unknown series {code!r}"))
            continue
        if code in seen_rows:
            problems.append(
                Problem(number, series_column, f"series {code!r} is already on row {seen_rows[code]}")
            )
            continue
        seen_rows[code] = number
        if unit_at is not None:
            _check_unit(cells[unit_at], series, number, _name(sheet.header, unit_at), problems)
        for column in columns:
            number_read = _number(cells[column.index], number, column.name, problems)
            if number_read is None:
                continue
            if series.period_type == "year" and column.period.last_month != 12:
                problems.append(Problem(number, column.name, f"series {code!r} has yearly figures only"))
                continue
            slot = located.setdefault((code, column.period), {"row": number, "column": column.name})
            slot["change" if column.change else "value"] = number_read
    if problems:
        raise ImportRefused(problems)
    return [
        Located(
            NewFigure(code, period, slot.get("value"), slot.get("change"), source=source),
            slot["row"],
            slot["column"],
        )
        for (code, period), slot in located.items()
    ]


def _name(header: Sequence[str], index: int) -> str:
    return f"{get_column_letter(index + 1)} ({header[index]})"


def _roles(header: list[str], problems: list[Problem]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for index, name in enumerate(header):
        lowered = " ".join(name.lower().split())
        role = "series" if lowered in SERIES_NAMES else "unit" if lowered in UNIT_NAMES else None
        role = role or ("label" if lowered in LABEL_NAMES else None)
        if role is None:
            continue
        if role in roles:
            problems.append(Problem(1, _name(header, index), f"a second {role} column"))
        roles[role] = index
    if "series" not in roles:
        problems.append(Problem(1, None, "no series column: name one 'Mã chỉ tiêu' (or 'series')"))
    return roles


def _period_columns(header: list[str], roles: dict[str, int], problems: list[Problem]) -> list[Column]:
    columns: list[Column] = []
    seen: dict[tuple[Period, bool], str] = {}
    for index, name in enumerate(header):
        if index in roles.values():
            continue
        shown = _name(header, index)
        if not name:
            problems.append(Problem(1, shown, "a column without a name"))
            continue
        match = CHANGE_SUFFIX.match(name)
        try:
            period = parse(match[1] if match else name)
        except PeriodError as error:
            problems.append(Problem(1, shown, str(error)))
            continue
        key = (period, bool(match))
        if key in seen:
            problems.append(Problem(1, shown, f"the period {period.key} is already in column {seen[key]}"))
            continue
        seen[key] = shown
        columns.append(Column(index, shown, period, bool(match)))
    return columns


def _check_unit(cell: Any, series: Series, row: int, column: str, problems: list[Problem]) -> None:
    written = "" if cell is None else str(cell)
    if not written.strip():
        return
    if unit_code(written) != series.unit:
        problems.append(
            Problem(row, column, f"unit {written!r} is not the unit of {series.code!r} ({series.unit})")
        )


def _number(cell: Any, row: int, column: str, problems: list[Problem]) -> float | None:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, bool):
        problems.append(Problem(row, column, "is not a number"))
        return None
    try:
        value = float(cell) if isinstance(cell, int | float) else parse_number(str(cell))
    except ValueError as error:
        problems.append(Problem(row, column, str(error)))
        return None
    if not math.isfinite(value):
        problems.append(Problem(row, column, "is not a finite number"))
        return None
    return value


def parse_number(text: str) -> float:
    """`23 100`, `1.234,5`, `1,234.5`, `26,7`, `-0.5` → float. `2.700` or `2,700` alone is refused:
    Vietnamese tables group thousands with `.`, English ones with `,`, and a guess could be off by 1,000."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in cleaned and "." in cleaned:
        decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?\d{1,3}[.,]\d{3}", cleaned):
        raise ValueError(
            f"{text!r} is ambiguous (thousands or decimals?): write {cleaned.replace(',', '').replace('.', '')} or add decimals"
        )
    elif cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(?:\.\d+)?", cleaned):
        raise ValueError(f"{text[:40]!r} is not a number")
    return float(cleaned)
