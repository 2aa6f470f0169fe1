"""On-time classes of a dossier in a period, on hand-computed cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from cityops.services.dossiers.classification import Bucket, EndKind, classify, facts_of
from cityops.services.dossiers.model import Dossier
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import Period

MARCH = Period.parse("2025-03")
AFTER_MARCH = datetime(2025, 4, 15, 10, tzinfo=VN_TZ)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def dossier(**changes: Any) -> Dossier:
    data: dict[str, Any] = {
        "code": "H12.01-250303-0001",
        "procedure_code": "1.001234",
        "agency_code": "H12.01",
        "area_code": "74",
        "channel": 1,
        "status": "processing",
        "received_at": vn(2025, 3, 3, 9),
        "due_at": vn(2025, 3, 10, 9),
    }
    return Dossier(**(data | changes))


def bucket(d: Dossier, period: Period = MARCH, now: datetime = AFTER_MARCH) -> Bucket | None:
    found = classify(d, period, now)
    return None if found is None else found.bucket


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (vn(2025, 3, 7, 16), Bucket.EARLY),
        (vn(2025, 3, 10, 16), Bucket.ON_TIME),  # later hour, same day: day-level comparison
        (vn(2025, 3, 11, 7, 30), Bucket.LATE),
    ],
)
def test_finished_dossiers_compare_days(finished: datetime, expected: Bucket) -> None:
    assert bucket(dossier(status="releasing", finished_at=finished)) is expected


def test_no_due_date_counts_as_on_time() -> None:
    assert bucket(dossier(status="done", due_at=None, returned_at=vn(2025, 3, 20))) is Bucket.ON_TIME


def test_processing_end_takes_precedence_over_return() -> None:
    d = dossier(status="done", finished_at=vn(2025, 3, 7), returned_at=vn(2025, 3, 12))
    assert bucket(d) is Bucket.EARLY


def test_withdrawn_and_refused_count_as_finished() -> None:
    withdrawn = classify(dossier(status="cancelled", cancelled_at=vn(2025, 3, 12)), MARCH, AFTER_MARCH)
    assert withdrawn is not None
    assert (withdrawn.bucket, withdrawn.end_kind, withdrawn.timely) == (Bucket.LATE, EndKind.WITHDRAWN, False)
    refused = classify(dossier(status="denied", refused_at=vn(2025, 3, 4)), MARCH, AFTER_MARCH)
    assert refused is not None and (refused.bucket, refused.end_kind) == (Bucket.EARLY, EndKind.REFUSED)


def test_stopped_is_its_own_bucket_outside_timeliness() -> None:
    found = classify(dossier(status="unresolved", stopped_at=vn(2025, 3, 20)), MARCH, AFTER_MARCH)
    assert found is not None and found.bucket is Bucket.STOPPED and found.timely is None


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (vn(2025, 3, 31, 20), Bucket.OVERDUE),  # before the period's end (1 April 00:00)
        (vn(2025, 4, 1, 0), Bucket.DUE_SOON),  # due at the end itself is within time
        (vn(2025, 4, 1, 23, 59), Bucket.DUE_SOON),
        (vn(2025, 4, 2, 0), Bucket.WITHIN_TIME),  # 24 h after the end
    ],
)
def test_open_at_period_end(due: datetime, expected: Bucket) -> None:
    # Finished in April: still open when March ended.
    assert bucket(dossier(status="done", due_at=due, returned_at=vn(2025, 4, 3))) is expected


def test_scope_backlog_and_received_flags() -> None:
    carried = classify(dossier(received_at=vn(2025, 2, 20), due_at=vn(2025, 3, 5)), MARCH, AFTER_MARCH)
    assert carried is not None and carried.carried_over and not carried.received_in_period
    assert carried.bucket is Bucket.OVERDUE
    fresh = classify(dossier(), MARCH, AFTER_MARCH)
    assert fresh is not None and fresh.received_in_period and not fresh.carried_over
    ended_before = dossier(
        received_at=vn(2025, 2, 20), status="done", due_at=None, returned_at=vn(2025, 2, 25)
    )
    assert classify(ended_before, MARCH, AFTER_MARCH) is None
    assert classify(dossier(received_at=vn(2025, 4, 2), due_at=None), MARCH, AFTER_MARCH) is None
    assert facts_of(dossier(status="receiving", received_at=None, due_at=None)) is None


def test_supplement_at_period_end_one_request_on_time_two_late() -> None:
    one = dossier(
        status="processing", supplements=[{"requested_at": vn(2025, 3, 28), "provided_at": vn(2025, 4, 2)}]
    )
    found = classify(one, MARCH, AFTER_MARCH)
    assert found is not None and (found.bucket, found.timely) == (Bucket.SUPPLEMENT, True)
    two = dossier(
        status="waiting",
        supplements=[
            {"requested_at": vn(2025, 3, 4), "provided_at": vn(2025, 3, 6)},
            {"requested_at": vn(2025, 3, 28)},
        ],
    )
    found = classify(two, MARCH, AFTER_MARCH)
    assert found is not None and (found.bucket, found.timely) == (Bucket.SUPPLEMENT, False)
    provided_in_time = dossier(supplements=[{"requested_at": vn(2025, 3, 4), "provided_at": vn(2025, 3, 6)}])
    assert bucket(provided_in_time) is Bucket.OVERDUE  # not waiting when March ended


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (vn(2025, 4, 15, 9), Bucket.OVERDUE),
        (vn(2025, 4, 15, 10, 30), Bucket.DUE_SOON),  # now 10:40 reads as 10:00
        (vn(2025, 4, 16, 9, 59), Bucket.DUE_SOON),
        (vn(2025, 4, 16, 10), Bucket.WITHIN_TIME),
    ],
)
def test_running_period_compares_with_now_truncated_to_the_hour(due: datetime, expected: Bucket) -> None:
    april = Period.parse("2025-04")
    d = dossier(received_at=vn(2025, 4, 14, 8), due_at=due)
    assert bucket(d, april, vn(2025, 4, 15, 10, 40)) is expected
