"""Applying status events: allowed paths, refused ones, events out of order, due dates checked against
the calendar and never silently overwritten."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.services.catalogue import Agency, Catalogue, Procedure, UnknownProcedureError
from cityops.services.dossiers.lifecycle import (
    ALLOWED,
    Applied,
    EventOrderError,
    StatusEvent,
    TransitionError,
    apply_status_event,
    check_dossier,
    expected_due,
)
from cityops.services.dossiers.model import Dossier, DossierStatus
from cityops.services.timing.calendar import VN_TZ, WorkingCalendar

CALENDAR = WorkingCalendar()
PROCEDURE = Procedure(
    code="1.001234",
    name="Cấp giấy phép",
    field="Xây dựng",
    level="full",
    duration=5,
    duration_unit="working_days",
    agency_level="province",
)
CATALOGUE = Catalogue(
    [PROCEDURE], [Agency(code="H12.01", name="Sở Xây dựng", area_code="74", level="province")]
)
CODE = "H12.01-250303-0001"
S = DossierStatus


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def submitted(**changes: Any) -> Dossier:
    data: dict[str, Any] = {
        "code": CODE,
        "procedure_code": PROCEDURE.code,
        "agency_code": "H12.01",
        "area_code": "74",
        "channel": 2,
        "status": "receiving",
        "status_at": vn(2025, 3, 3, 8),
        "submitted_at": vn(2025, 3, 3, 8),
    }
    return Dossier(**(data | changes))


def apply(dossier: Dossier, status: DossierStatus, at: datetime, **extra: Any) -> Applied:
    event = StatusEvent(code=dossier.code, status=status, at=at, **extra)
    return apply_status_event(dossier, event, catalogue=CATALOGUE, calendar=CALENDAR)


def test_receipt_sets_received_and_fills_the_due_date_from_the_calendar() -> None:
    result = apply(submitted(), S.NEW, vn(2025, 3, 3, 9))
    d = result.dossier
    assert d.status is S.NEW and d.received_at == vn(2025, 3, 3, 9)
    assert d.due_at == CALENDAR.add_working_days(vn(2025, 3, 3, 9), 5) == vn(2025, 3, 10, 9)
    assert d.due_origin == "calendar"
    assert [f.kind for f in result.findings] == ["due_computed"]


def test_source_due_date_is_kept_and_a_mismatch_reported() -> None:
    agreeing = apply(submitted(), S.NEW, vn(2025, 3, 3, 9), due_at=vn(2025, 3, 10, 9))
    assert agreeing.findings == ()
    other_day = apply(submitted(), S.NEW, vn(2025, 3, 3, 9), due_at=vn(2025, 3, 12, 9))
    assert other_day.dossier.due_at == vn(2025, 3, 12, 9)  # the source's, not overwritten
    assert [(f.kind, f.severity) for f in other_day.findings] == [("due_mismatch", "warning")]
    assert "+16.00 working hours" in other_day.findings[0].message
    same_day = apply(submitted(), S.NEW, vn(2025, 3, 3, 9), due_at=vn(2025, 3, 10, 17))
    assert [(f.kind, f.severity) for f in same_day.findings] == [("due_time_differs", "info")]


def test_full_path_with_a_supplement_moves_the_due_date() -> None:
    d = apply(submitted(), S.NEW, vn(2025, 3, 3, 9)).dossier
    d = apply(d, S.PROCESSING, vn(2025, 3, 3, 10)).dossier
    d = apply(d, S.WAITING, vn(2025, 3, 4, 16), supplement_deadline=vn(2025, 3, 14, 17)).dossier
    assert d.waiting_for_citizen and d.supplement_deadline == vn(2025, 3, 14, 17)
    resumed = apply(d, S.PROCESSING, vn(2025, 3, 5, 9))  # waited 1 h + 2 h of working time
    d = resumed.dossier
    assert not d.waiting_for_citizen
    # 10 March 09:00 + 3 h: 2.5 h to the lunch break, 0.5 h after it.
    assert d.due_at == vn(2025, 3, 10, 14) == expected_due(d, PROCEDURE, CALENDAR)
    assert [f.kind for f in resumed.findings] == ["due_extended"]
    d = apply(d, S.RELEASING, vn(2025, 3, 7, 15)).dossier
    d = apply(d, S.DONE, vn(2025, 3, 8, 9)).dossier
    assert (d.finished_at, d.returned_at, d.status) == (vn(2025, 3, 7, 15), vn(2025, 3, 8, 9), S.DONE)
    assert check_dossier(d, catalogue=CATALOGUE, calendar=CALENDAR) == []


def test_terminal_statuses_do_not_move() -> None:
    done = apply(apply(submitted(), S.NEW, vn(2025, 3, 3, 9)).dossier, S.DONE, vn(2025, 3, 4, 9)).dossier
    with pytest.raises(TransitionError, match=r"cannot go from done .* to processing"):
        apply(done, S.PROCESSING, vn(2025, 3, 5, 9))


def test_processing_before_receipt_is_refused() -> None:
    with pytest.raises(TransitionError, match=r"lifecycle does not allow receiving → processing"):
        apply(submitted(), S.PROCESSING, vn(2025, 3, 3, 9))


def test_result_returned_before_receipt_is_refused() -> None:
    received = apply(submitted(), S.NEW, vn(2025, 3, 3, 9)).dossier
    stale_free = received.model_copy(update={"status_at": None})
    with pytest.raises(
        EventOrderError, match=r"done at 2025-03-03T08:00:00\+07:00 is before .* was received"
    ):
        apply(stale_free, S.DONE, vn(2025, 3, 3, 8))


def test_unknown_procedure_and_foreign_event_are_refused() -> None:
    with pytest.raises(UnknownProcedureError, match=r"procedure_code: '9.999'"):
        apply(submitted(procedure_code="9.999"), S.NEW, vn(2025, 3, 3, 9))
    event = StatusEvent(code="H12.01-250303-0002", status=S.NEW, at=vn(2025, 3, 3, 9))
    with pytest.raises(ValueError, match=r"code: event for H12.01-250303-0002 applied to dossier"):
        apply_status_event(submitted(), event, catalogue=CATALOGUE, calendar=CALENDAR)


def test_an_older_event_does_not_move_the_status_back() -> None:
    d = apply(apply(submitted(), S.NEW, vn(2025, 3, 3, 9)).dossier, S.PROCESSING, vn(2025, 3, 3, 10)).dossier
    late = apply(d, S.NEW, vn(2025, 3, 3, 9, 30))
    assert late.dossier == d and not late.changed
    assert [f.kind for f in late.findings] == ["stale_event"]
    same_time_lower_rank = apply(d, S.NEW, vn(2025, 3, 3, 10))
    assert same_time_lower_rank.dossier.status is S.PROCESSING


def test_a_late_receipt_event_still_fills_the_receipt_date() -> None:
    waiting = apply(submitted(), S.WAITING, vn(2025, 3, 3, 10)).dossier  # supplement asked before acceptance
    d = apply(waiting, S.NEW, vn(2025, 3, 4, 9)).dossier
    assert d.received_at == vn(2025, 3, 4, 9)
    assert d.due_at == CALENDAR.add_working_days(vn(2025, 3, 4, 9), 5)  # no pause before receipt


def test_a_repeated_status_changes_nothing() -> None:
    d = apply(submitted(), S.NEW, vn(2025, 3, 3, 9)).dossier
    again = apply(d, S.NEW, vn(2025, 3, 3, 11))
    assert again.dossier == d and [f.kind for f in again.findings] == ["duplicate_event"]


def test_check_dossier_reports_code_and_due_disagreements() -> None:
    d = submitted(
        code="H12.99-250301-0001", status="new", received_at=vn(2025, 3, 3, 9), due_at=vn(2025, 3, 14, 9)
    )
    kinds = {f.kind for f in check_dossier(d, catalogue=CATALOGUE, calendar=CALENDAR)}
    assert kinds == {"code_agency", "code_date", "due_mismatch"}


# A valid chronological path: receipt, some processing steps, an end.
MIDDLE = [S.PROCESSING, S.WAITING, S.PROCESSING, S.PAYING, S.RELEASING, S.PROCESSING]
paths = st.tuples(
    st.lists(st.sampled_from(MIDDLE), max_size=6),
    st.sampled_from([S.DONE, S.CANCELLED, S.UNRESOLVED, S.DENIED, S.RELEASING]),
    st.lists(st.integers(1, 600), min_size=12, max_size=12),
)


def legal_path(middle: list[DossierStatus], end: DossierStatus) -> list[DossierStatus]:
    path = [S.NEW]
    for status in [*middle, end]:
        if status in ALLOWED[path[-1]] and status is not path[-1]:
            path.append(status)
    return path


@given(paths, st.data())
def test_replaying_any_older_event_never_changes_the_status(path: Any, data: st.DataObject) -> None:
    middle, end, gaps = path
    statuses = legal_path(middle, end)
    times = [vn(2025, 3, 3, 9) + timedelta(minutes=sum(gaps[: i + 1])) for i in range(len(statuses))]
    d = submitted()
    for status, at in zip(statuses, times, strict=True):
        d = apply(d, status, at).dossier
    assert d.status is statuses[-1]
    older = data.draw(st.integers(0, len(statuses) - 2)) if len(statuses) > 1 else 0
    replayed = apply(d, statuses[older], times[older])
    assert replayed.dossier.status is d.status
    assert not replayed.changed
