"""Properties of the importers: a file with a malformed row leaves nothing behind, in any format and at any
position; importing a file a second time changes nothing."""

from __future__ import annotations

import io
import itertools
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from cityops.services.importing.bulk import DossierImportError
from cityops.services.importing.readers import Format
from cityops.services.runtime import ServicesRuntime
from cityops.services.schema import dossiers

from .conftest import csv_bytes, dossier_row, xlsx_bytes

# The runtime is shared by the examples of a test on purpose: a refused file must leave it as it was.
SHARED = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MALFORMED: dict[str, list[Any]] = {
    "code": ["H57.S01-251340-0001", "", "H57 S01-250303-0001"],
    "channel": ["7", "online"],
    "status": ["archived", "11"],
    "received_at": [
        "2025-03-03T08:00:00",
        "03/03/2025",
        "2025-03-02T08:00:00+07:00",
    ],  # the last: before submission
    "fee_vnd": ["-1", "năm mươi nghìn"],
    "rating": ["5"],
    "procedure_code": ["9.999999"],
    "agency_code": ["H57.UNKNOWN"],
    "area_code": ["legacy:999999"],
    "returned_at": ["2025-03-06T10:00:00+07:00"],  # before finished_at
}


SEQUENCE = itertools.count(1)


@st.composite
def valid_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """New dossiers of one day, in several states."""
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        code = f"H57.S01-250303-{next(SEQUENCE) % 9000 + 100:04d}"
        state = draw(st.sampled_from(["done", "processing", "waiting", "cancelled"]))
        row = dossier_row(code=code, channel=draw(st.sampled_from(["1", "2", "3"])))
        if state != "done":
            del row["finished_at"], row["returned_at"]
            row["status"] = state
            row["status_at"] = "2025-03-05T09:00:00+07:00"
        if state == "waiting":
            row["supplement_requested_at"] = "2025-03-05T09:00:00+07:00"
        if state == "cancelled":
            row["cancelled_at"] = "2025-03-05T09:00:00+07:00"
        if row["channel"] != "2":
            del row["online_level"]
        rows.append(row)
    return rows


def body(rows: list[dict[str, Any]], format: Format) -> bytes:
    if format == "csv":
        return csv_bytes(rows)
    if format == "xlsx":
        return xlsx_bytes(rows)
    if format == "json":
        return orjson.dumps(rows)
    return b"\n".join(orjson.dumps(row) for row in rows)


def count(runtime: ServicesRuntime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(dossiers)).scalar_one())


formats = st.sampled_from(["csv", "xlsx", "json", "ndjson"])


@SHARED
@given(valid_rows(), st.data(), formats)
def test_a_malformed_row_leaves_nothing_behind(
    runtime: ServicesRuntime, rows: list[dict[str, Any]], data: st.DataObject, format: Format
) -> None:
    field = data.draw(st.sampled_from(sorted(MALFORMED)))
    position = data.draw(st.integers(0, len(rows)))
    bad = dossier_row(code="H57.S01-250303-0001")
    bad[field] = data.draw(st.sampled_from(MALFORMED[field]))
    rows = [*rows[:position], bad, *rows[position:]]
    before_count, before_state = count(runtime), runtime.accumulator.state()
    with pytest.raises(DossierImportError) as refused:
        runtime.import_file(format, io.BytesIO(body(rows, format)), f"bad.{format}")
    assert refused.value.problems, "the error names at least one problem"
    assert any(p.row == position + 1 for p in refused.value.problems) or field == "code"
    assert count(runtime) == before_count
    assert runtime.accumulator.state() == before_state


@SHARED
@given(valid_rows(), formats)
def test_importing_a_file_twice_changes_nothing_the_second_time(
    runtime: ServicesRuntime, rows: list[dict[str, Any]], format: Format
) -> None:
    first = runtime.import_file(format, io.BytesIO(body(rows, format)), f"a.{format}")
    assert first.rows == len(rows)
    state = runtime.accumulator.state()
    again = runtime.import_file(format, io.BytesIO(body(rows, format)), f"a.{format}")
    assert (again.unchanged, again.inserted, again.updated) == (len(rows), 0, 0)
    assert runtime.accumulator.state() == state
