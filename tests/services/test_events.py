"""Status events and ratings: applied in order, all or nothing per batch, refused with a clear error when
they make no sense, and reflected in the index at once."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest

from cityops.services.dossiers.events import EventsRefused, RatingEvent, parse_ratings, parse_status_events
from cityops.services.dossiers.lifecycle import StatusEvent
from cityops.services.dossiers.records import C
from cityops.services.index.accumulator import PROVINCE
from cityops.services.runtime import ServicesRuntime
from cityops.services.store import fetch_records
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import Period

from .conftest import csv_bytes, dossier_row

CODE = "H57.S01-250303-0001"
YEAR = Period.parse("2025")


def open_dossier(runtime: ServicesRuntime, **changes: Any) -> None:
    row = dossier_row(status="processing", status_at="2025-03-03T09:00:00+07:00", **changes)
    del row["finished_at"], row["returned_at"]
    runtime.import_file("csv", io.BytesIO(csv_bytes([row])), "open.csv")


def event(status: str, at: str, **extra: Any) -> StatusEvent:
    return StatusEvent.model_validate({"code": CODE, "status": status, "at": at, **extra})


def test_events_move_a_dossier_on_and_the_index_follows(runtime: ServicesRuntime) -> None:
    open_dossier(runtime)
    assert runtime.accumulator.aggregates(PROVINCE, YEAR).processed == 0
    report = runtime.apply_events(
        [event("releasing", "2025-03-06T10:00:00+07:00"), event("done", "2025-03-06T14:00:00+07:00")]
    )
    assert (report.events, report.changed) == (2, 2)
    year = runtime.accumulator.aggregates(PROVINCE, YEAR)
    assert (year.processed, year.early) == (1, 1)


def test_a_nonsensical_transition_refuses_the_whole_batch(runtime: ServicesRuntime) -> None:
    open_dossier(runtime)
    before = runtime.accumulator.state()
    batch = [event("done", "2025-03-06T14:00:00+07:00"), event("processing", "2025-03-07T08:00:00+07:00")]
    with pytest.raises(EventsRefused) as refused:
        runtime.apply_events(batch)
    (problem,) = refused.value.problems
    assert (problem.row, problem.code, problem.field) == (2, CODE, "status")
    assert "cannot go from done (10) to processing (4)" in problem.message
    assert runtime.accumulator.state() == before
    with runtime.engine.connect() as conn:
        assert fetch_records(conn, [CODE])[CODE][C["status"]] == 4


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"code": "H57.S01-250303-0404"}, "code", "not known"),
        ({"at": "2025-09-16T08:00:00+07:00"}, "at", "in the future"),
    ],
)
def test_events_that_cannot_be_applied_name_the_field(
    runtime: ServicesRuntime, changes: dict[str, str], field: str, words: str
) -> None:
    open_dossier(runtime)
    item = {"code": CODE, "status": "releasing", "at": "2025-03-06T10:00:00+07:00", **changes}
    with pytest.raises(EventsRefused) as refused:
        runtime.apply_events(parse_status_events([item]))
    (problem,) = refused.value.problems
    assert problem.field == field and words in problem.message


def test_an_event_older_than_the_current_status_changes_nothing(runtime: ServicesRuntime) -> None:
    open_dossier(runtime)
    before = runtime.accumulator.state()
    report = runtime.apply_events([event("new", "2025-03-01T08:00:00+07:00")])
    assert (report.changed, report.unchanged) == (0, 1)
    assert [f["kind"] for f in report.findings] == ["stale_event"]
    assert runtime.accumulator.state() == before


def test_a_malformed_event_is_refused_before_anything_is_applied() -> None:
    with pytest.raises(EventsRefused) as refused:
        parse_status_events([{"code": CODE, "status": "archived", "at": "2025-03-06T10:00:00+07:00"}])
    assert refused.value.problems[0].field == "status"
    with pytest.raises(EventsRefused) as naive:
        parse_status_events([{"code": CODE, "status": "done", "at": "2025-03-06T10:00:00"}])
    assert naive.value.problems[0].field == "at"


def test_a_due_date_sent_with_an_event_is_kept_and_checked(runtime: ServicesRuntime) -> None:
    open_dossier(runtime)
    report = runtime.apply_events(
        [event("waiting", "2025-03-04T08:00:00+07:00"), event("processing", "2025-03-06T08:00:00+07:00")]
    )
    assert any(f["kind"] == "due_extended" for f in report.findings)
    moved = runtime.apply_events(
        [event("paying", "2025-03-06T09:00:00+07:00", due_at="2025-03-20T08:00:00+07:00")]
    )
    assert [f["kind"] for f in moved.findings] == ["due_mismatch"]
    with runtime.engine.connect() as conn:
        due = fetch_records(conn, [CODE])[CODE][C["due_at"]]
    assert due == int(datetime(2025, 3, 20, 8, tzinfo=VN_TZ).timestamp())


def test_ratings_count_towards_satisfaction(runtime: ServicesRuntime) -> None:
    runtime.import_file("csv", io.BytesIO(csv_bytes([dossier_row()])), "done.csv")
    runtime.apply_events(parse_ratings([{"code": CODE, "rating": 3}]))
    year = runtime.accumulator.aggregates(PROVINCE, YEAR)
    assert (year.rated, year.satisfied, year.complained) == (1, 1, 0)
    runtime.apply_events([RatingEvent(code=CODE, rating=1)])  # type: ignore[arg-type]
    year = runtime.accumulator.aggregates(PROVINCE, YEAR)
    assert (year.rated, year.satisfied, year.complained) == (1, 0, 1)
