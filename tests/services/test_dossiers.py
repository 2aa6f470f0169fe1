"""The dossier model: national-sync fields, status codes, and records that cannot be true."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from cityops.services.catalogue import OnlineLevel
from cityops.services.dossiers.model import Dossier, DossierStatus, dossier_code, parse_dossier_code
from cityops.services.timing.calendar import VN_TZ

PORTAL = [
    "receiving",
    "new",
    "denied",
    "processing",
    "waiting",
    "paying",
    "cancelled",
    "unresolved",
    "releasing",
    "done",
]


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def dossier(**changes: Any) -> Dossier:
    data: dict[str, Any] = {
        "code": "000.00.12.H12-250303-0001",
        "procedure_code": "1.001234",
        "agency_code": "000.00.12.H12",
        "area_code": "74",
        "channel": 2,
        "status": "processing",
        "submitted_at": vn(2025, 3, 3, 8),
        "received_at": vn(2025, 3, 3, 9),
        "due_at": vn(2025, 3, 10, 9),
    }
    return Dossier(**(data | changes))


def test_status_codes_and_portal_strings() -> None:
    assert [s.value for s in DossierStatus] == list(range(1, 11))
    assert [s.portal_name for s in DossierStatus] == PORTAL
    for status in DossierStatus:
        assert DossierStatus.parse(status.portal_name) is status
        assert DossierStatus.parse(str(status.value)) is status
    with pytest.raises(ValueError, match=r"'finished' is not a portal status"):
        DossierStatus.parse("finished")
    with pytest.raises(ValueError, match=r"not a status code 1–10"):
        DossierStatus.parse(11)


def test_dossier_code_round_trip() -> None:
    code = dossier_code("000.00.12.H12", date(2025, 3, 3), 7)
    assert code == "000.00.12.H12-250303-0007"
    assert parse_dossier_code(code) == ("000.00.12.H12", date(2025, 3, 3), 7)
    with pytest.raises(ValueError, match=r"sequence"):
        dossier_code("A", date(2025, 3, 3), 10_000)


@pytest.mark.parametrize(
    ("code", "why"),
    [("A-250230-0001", "no valid date"), ("A-2503-0001", "is not"), ("A-250303-01", "is not")],
)
def test_malformed_codes_are_refused(code: str, why: str) -> None:
    with pytest.raises(ValidationError, match=f"code: .*{why}"):
        dossier(code=code)


def test_datetimes_must_be_aware_and_are_kept_in_vietnam_time() -> None:
    with pytest.raises(ValidationError, match=r"received_at"):
        dossier(received_at=datetime(2025, 3, 3, 9))
    moved = dossier(received_at=datetime(2025, 3, 3, 2, tzinfo=UTC))
    assert moved.received_at == vn(2025, 3, 3, 9)
    assert moved.received_at is not None and moved.received_at.tzinfo is VN_TZ


def test_legacy_online_level_and_flags() -> None:
    d = dossier(online_level=3, fee_vnd=50_000, paid_online=1, rating=3)
    assert d.online_level is OnlineLevel.PARTIAL
    assert d.online and d.paid_online == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "done", "returned_at": vn(2025, 3, 2, 9)}, "returned_at: .* is before received_at"),
        ({"due_at": vn(2025, 3, 3, 8)}, "due_at: .* is before received_at"),
        ({"received_at": vn(2025, 3, 3, 7)}, "received_at: .* is before submitted_at"),
        ({"status": "done"}, "returned_at: required when status is done"),
        ({"status": "cancelled"}, "cancelled_at: required when status is cancelled"),
        ({"received_at": None, "due_at": None}, "received_at: required when status is processing"),
        ({"paid_online": 1}, "paid_online: set on a dossier without fee"),
        ({"status": "waiting"}, "status is waiting .* but no supplement request is open"),
        (
            {"finished_at": vn(2025, 3, 6), "returned_at": vn(2025, 3, 5), "status": "done"},
            "returned_at: .* is before finished_at",
        ),
        (
            {"supplements": [{"requested_at": vn(2025, 3, 4)}, {"requested_at": vn(2025, 3, 5)}]},
            r"supplements\[1\]: requested while request 0 is still open",
        ),
        (
            {"supplements": [{"requested_at": vn(2025, 3, 4), "provided_at": vn(2025, 3, 3)}]},
            "provided_at: .* is before requested_at",
        ),
    ],
)
def test_records_that_cannot_be_true_are_refused_naming_the_field(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        dossier(**changes)


def test_done_with_processing_finished_only_is_accepted() -> None:
    d = dossier(status=10, finished_at=vn(2025, 3, 6, 10))
    assert d.status is DossierStatus.DONE and d.status.terminal


def test_supplement_accessors() -> None:
    d = dossier(
        status="waiting",
        supplements=[
            {"requested_at": vn(2025, 3, 4), "provided_at": vn(2025, 3, 5)},
            {"requested_at": vn(2025, 3, 6), "deadline": vn(2025, 3, 20)},
        ],
    )
    assert d.supplement_count == 2
    assert d.supplement_requested_at == vn(2025, 3, 6)
    assert d.supplement_deadline == vn(2025, 3, 20)
    assert d.waiting_for_citizen
