"""The Arrow reader gives the records the stdlib reader and `fast_rows` give, and leaves the same rows to
the model; files it cannot read exactly as the stdlib does go to the stdlib reader, whole."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import assume, given, settings

from cityops.services.importing.arrow_rows import NotColumnar, parse_block, read_blocks
from cityops.services.importing.bulk import DossierImportError
from cityops.services.importing.fast_rows import parse_table
from cityops.services.runtime import ServicesRuntime

from .conftest import csv_bytes, dossier_row, numbered
from .test_fast_rows import model_record, tables


def as_csv(header: tuple[str, ...], rows: list[list[Any]]) -> tuple[bytes, list[list[str]]]:
    text_rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(text_rows)
    return buffer.getvalue().encode(), text_rows


def arrow_records(body: bytes, block_bytes: int = 1 << 20) -> list[Any]:
    return [record for block in read_blocks(io.BytesIO(body), block_bytes) for record in parse_block(block)]


@settings(max_examples=300, deadline=None)
@given(tables())
def test_the_arrow_path_agrees_with_the_fast_path_and_the_model(
    table: tuple[tuple[str, ...], list[list[Any]]],
) -> None:
    header, rows = table
    body, text_rows = as_csv(header, rows)
    assume(b'"' not in body)  # quoted cells go to the stdlib reader (next test)
    assume(all(any(cell for cell in row) for row in text_rows))  # so do blank lines
    parsed = arrow_records(body)
    assert parsed == parse_table(header, text_rows)
    for position, record in enumerate(parsed):
        if record is not None:
            assert model_record(header, text_rows, position) == record


def test_a_file_of_many_blocks_reads_like_one() -> None:
    body = csv_bytes(numbered(2_000))
    small_blocks = arrow_records(body, block_bytes=16 << 10)
    assert len(small_blocks) == 2_000 and None not in small_blocks
    assert small_blocks == arrow_records(body)


@pytest.mark.parametrize(
    "body",
    [
        b'code,status\n"H57.S01-250303-0001",done\n',  # a quoted cell
        b"code,status\nH57.S01-250303-0001,done\n\nH57.S01-250303-0002,done\n",  # a blank line
        b"code,status\nH57.S01-250303-0001,done,extra\n",  # a ragged row
        b"code,status\nH57.S01-250303-0001,d\xffne\n",  # not UTF-8
        b"code\nH57.S01-250303-0001\n",  # one column: a blank line would be a cell
    ],
)
def test_files_arrow_would_read_otherwise_go_to_the_stdlib_reader(body: bytes) -> None:
    with pytest.raises(NotColumnar):
        arrow_records(body)


def test_a_file_with_quotes_and_blank_lines_still_imports(runtime: ServicesRuntime) -> None:
    rows = numbered(3)
    rows[1]["code"] = "H57.S01-250303-0002"
    body = csv_bytes(rows).replace(b"H57.S01-250303-0002", b'"H57.S01-250303-0002"') + b"\n"
    report = runtime.import_file("csv", io.BytesIO(body), "quoted.csv")
    assert (report.rows, report.inserted) == (3, 3)


def test_a_ragged_row_is_named_after_the_arrow_reader_gave_up(runtime: ServicesRuntime) -> None:
    body = csv_bytes(numbered(3)).rstrip(b"\r\n") + b",extra\r\n"
    with pytest.raises(DossierImportError) as refused:
        runtime.import_file("csv", io.BytesIO(body), "ragged.csv")
    assert [(p.row, p.field) for p in refused.value.problems] == [(3, "row")]
    assert runtime.dossier_count() == 0


def test_a_faulty_row_is_named_by_the_model(runtime: ServicesRuntime) -> None:
    rows = [dossier_row(code=f"H57.S01-250303-{n:04d}") for n in range(1, 6)]
    rows[3]["channel"] = "9"
    with pytest.raises(DossierImportError) as refused:
        runtime.import_file("csv", io.BytesIO(csv_bytes(rows)), "faulty.csv")
    assert [(p.row, p.code, p.field) for p in refused.value.problems] == [(4, rows[3]["code"], "channel")]
