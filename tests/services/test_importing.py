"""Bulk import: every format, all or nothing per file, idempotent per dossier code, due dates checked
against the calendar and never overwritten, the 2025 reform's areas and agencies, and an index that
agrees with a full recomputation from the stored dossiers."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from cityops.services.dossiers.records import C
from cityops.services.importing.bulk import DossierImportError
from cityops.services.importing.readers import Chunk, Format
from cityops.services.index.accumulator import PROVINCE
from cityops.services.runtime import ServicesRuntime
from cityops.services.schema import dossiers, findings
from cityops.services.store import fetch_records
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import Period

from .conftest import csv_bytes, dossier_row, numbered, xlsx_bytes


def stored(runtime: ServicesRuntime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(dossiers)).scalar_one())


def record(runtime: ServicesRuntime, code: str) -> tuple[Any, ...]:
    with runtime.engine.connect() as conn:
        return fetch_records(conn, [code])[code]


def import_rows(runtime: ServicesRuntime, rows: list[dict[str, Any]], format: Format = "csv") -> Any:
    body = csv_bytes(rows) if format == "csv" else xlsx_bytes(rows)
    return runtime.import_file(format, io.BytesIO(body), f"test.{format}")


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_a_file_is_stored_counted_and_indexed(runtime: ServicesRuntime, format: Format) -> None:
    report = import_rows(
        runtime, [*numbered(3), dossier_row(code="H57.S01-250303-0009", channel="1")], format
    )
    assert (report.rows, report.inserted) == (4, 4)
    assert stored(runtime) == 4
    year = runtime.accumulator.aggregates(PROVINCE, Period.parse("2025"))
    assert (year.received, year.online, year.processed) == (4, 3, 4)
    assert record(runtime, "H57.S01-250303-0001")[C["received_at"]] == int(
        datetime(2025, 3, 3, 8, tzinfo=VN_TZ).timestamp()
    )


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_importing_the_same_file_again_changes_nothing(runtime: ServicesRuntime, format: Format) -> None:
    rows = numbered(5)
    import_rows(runtime, rows, format)
    before = runtime.accumulator.state()
    again = import_rows(runtime, rows, format)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert runtime.accumulator.state() == before
    assert stored(runtime) == 5


def test_json_and_ndjson_bodies_are_imported_alike(runtime: ServicesRuntime) -> None:
    import orjson

    runtime.import_file("json", io.BytesIO(orjson.dumps({"dossiers": numbered(2)})), "a.json")
    lines = b"\n".join(orjson.dumps(row) for row in numbered(3)) + b"\n"
    report = runtime.import_file("ndjson", io.BytesIO(lines), "b.ndjson")
    assert (report.inserted, report.unchanged) == (1, 2)


def test_one_faulty_row_refuses_the_whole_file(runtime: ServicesRuntime) -> None:
    import_rows(runtime, numbered(2))
    before = runtime.accumulator.state()
    rows = [
        dossier_row(code=f"H57.S01-250304-{n:04d}", received_at="2025-03-04T08:00:00+07:00") for n in (1, 2)
    ]
    rows.append(dossier_row(code="H57.S01-250304-0003", procedure_code="9.999999"))
    with pytest.raises(DossierImportError) as refused:
        import_rows(runtime, rows)
    (problem,) = refused.value.problems
    assert (problem.row, problem.code, problem.field) == (3, "H57.S01-250304-0003", "procedure_code")
    assert "catalogue" in problem.message
    assert stored(runtime) == 2
    assert runtime.accumulator.state() == before


def test_a_newer_row_updates_the_dossier_and_an_older_one_is_skipped(runtime: ServicesRuntime) -> None:
    code = "H57.S01-250303-0001"
    processing = dossier_row(code=code, status="processing", status_at="2025-03-04T09:00:00+07:00")
    del processing["finished_at"], processing["returned_at"]
    import_rows(runtime, [processing])
    assert runtime.accumulator.aggregates(PROVINCE, Period.parse("2025")).processed == 0
    updated = import_rows(runtime, [dossier_row(code=code)])
    assert updated.updated == 1
    assert runtime.accumulator.aggregates(PROVINCE, Period.parse("2025")).processed == 1
    stale = import_rows(runtime, [processing])
    assert (stale.stale, stale.updated) == (1, 0)
    assert record(runtime, code)[C["status"]] == 10


def test_a_finished_dossier_cannot_change_status(runtime: ServicesRuntime) -> None:
    code = "H57.S01-250303-0001"
    import_rows(runtime, [dossier_row(code=code)])
    reopened = dossier_row(code=code, status="processing", status_at="2025-03-08T09:00:00+07:00")
    del reopened["finished_at"], reopened["returned_at"]
    with pytest.raises(DossierImportError) as refused:
        import_rows(runtime, [reopened])
    (problem,) = refused.value.problems
    assert problem.field == "status"
    assert "already ended as done (10)" in problem.message and "processing (4)" in problem.message


def test_a_source_due_date_unlike_the_calendars_is_reported_not_overwritten(runtime: ServicesRuntime) -> None:
    source_due = "2025-03-11T08:00:00+07:00"  # the calendar says 10 March 08:00
    report = import_rows(runtime, [dossier_row(due_at=source_due)])
    assert report.findings["due_mismatch"] == 1
    assert record(runtime, "H57.S01-250303-0001")[C["due_at"]] == int(
        datetime.fromisoformat(source_due).timestamp()
    )
    with runtime.engine.connect() as conn:
        (finding,) = conn.execute(select(findings)).all()
    assert finding.kind == "due_mismatch" and "2025-03-10T08:00:00+07:00" in finding.message


def test_a_missing_due_date_is_filled_from_the_calendar_and_marked(runtime: ServicesRuntime) -> None:
    row = dossier_row()
    del row["due_at"]
    report = import_rows(runtime, [row])
    assert report.findings["due_computed"] == 1
    stored_row = record(runtime, "H57.S01-250303-0001")
    assert stored_row[C["due_at"]] == int(datetime(2025, 3, 10, 8, tzinfo=VN_TZ).timestamp())
    assert stored_row[C["due_origin"]] == 1
    assert import_rows(runtime, [row]).unchanged == 1


def test_a_district_agency_after_the_reform_is_refused(runtime: ServicesRuntime) -> None:
    row = dossier_row(
        code="H57.D718-250805-0001",
        agency_code="H57.D718",
        area_code="legacy:718",
        procedure_code="1.000003",
        status="processing",
        submitted_at="2025-08-05T08:00:00+07:00",
        received_at="2025-08-05T08:00:00+07:00",
        status_at="2025-08-05T08:00:00+07:00",
        due_at="2025-08-20T17:00:00+07:00",
    )
    for name in ("finished_at", "returned_at", "fee_vnd", "paid_online"):
        del row[name]
    with pytest.raises(DossierImportError) as refused:
        import_rows(runtime, [row])
    (problem,) = refused.value.problems
    assert problem.field == "agency_code" and "2025-08-05" in problem.message


def test_a_legacy_ward_used_after_the_reform_counts_in_its_successor(runtime: ServicesRuntime) -> None:
    row = dossier_row(
        code="H57.N25747-250805-0001",
        agency_code="H57.N25747",
        area_code="legacy:25741",
        procedure_code="1.000002",
        channel="1",
        submitted_at="2025-08-05T08:00:00+07:00",
        received_at="2025-08-05T08:00:00+07:00",
        due_at="2025-08-06T08:00:00+07:00",
        finished_at="2025-08-05T15:00:00+07:00",
        returned_at="2025-08-05T16:00:00+07:00",
        status_at="2025-08-05T16:00:00+07:00",
    )
    for name in ("online_level", "fee_vnd", "paid_online"):
        del row[name]
    report = import_rows(runtime, [row])
    assert report.findings["area_mapped"] == 1
    successor = runtime.area_book.successors["legacy:25741"]
    assert record(runtime, row["code"])[C["area_code"]] == successor


def test_a_moment_in_the_future_is_refused(runtime: ServicesRuntime) -> None:
    with pytest.raises(DossierImportError) as refused:
        import_rows(runtime, [dossier_row(returned_at="2025-09-20T10:00:00+07:00")])
    assert refused.value.problems[0].field == "returned_at"


def test_a_ragged_csv_names_the_row(runtime: ServicesRuntime) -> None:
    body = csv_bytes(numbered(2)) + b"H57.S01-250303-0003,1.000001\n"
    with pytest.raises(DossierImportError) as refused:
        runtime.import_file("csv", io.BytesIO(body), "ragged.csv")
    (problem,) = refused.value.problems
    assert (problem.row, problem.field) == (3, "row")
    assert stored(runtime) == 0


def test_a_simulated_year_reads_the_same_after_a_full_recomputation(
    runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any
) -> None:
    runtime.save_catalogue(demo_province.procedures, demo_province.agencies)
    report = runtime.import_chunks(demo_2025, "simulated 2025", "csv")
    assert report.inserted == sum(len(c.rows) for c in demo_2025)
    incremental = runtime.accumulator.state()
    runtime.rebuild()
    assert runtime.accumulator.state() == incremental
