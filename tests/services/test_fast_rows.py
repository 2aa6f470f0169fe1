"""The column-at-a-time parser vouches only for rows the `Dossier` model accepts, with the same record."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.services.dossiers.records import RowError, parse_with_model
from cityops.services.importing.fast_rows import parse_table
from cityops.services.importing.readers import Chunk

GOOD_TIMES = [
    "2025-03-03T08:00:00+07:00",
    "2025-03-03T09:30:00+07:00",
    "2025-03-04T01:00:00Z",
    "2025-03-05T17:00:00+07:00",
    "2025-03-10T10:00:00-05:00",
]
ODD_TIMES = [
    "2025-03-03T08:00:00",  # no offset
    "2025-03-03 08:00:00+07:00",
    "2025-03-03T08:00:00.250+07:00",
    "2025-02-30T08:00:00+07:00",
    "2025-03-03T24:00:00+07:00",
    "2025-03-03T08:00:60+07:00",
    "2025-03-03T08:00:00+15:00",
    "2025-03-03T08:00:00-00:00",
    "2025-03-03T08:00:00+0700",
    "1969-12-31T23:00:00Z",
    "٢٠٢٥-03-03T08:00:00+07:00",
    "yesterday",
    "",
]
times = st.sampled_from(GOOD_TIMES) | st.sampled_from(ODD_TIMES) | st.none()
small = st.sampled_from(
    ["1", "2", "3", "4", "9", "10", "11", "0", "01", " 2", "2.0", "", "x"]
) | st.sampled_from([1, 2, 3, 10, 0, True, False, 2.0, None])
flags = st.sampled_from(["0", "1", "true", "false", "True", "TRUE", "yes", "", " 1", "2"]) | st.sampled_from(
    [True, False, 0, 1, 2, None]
)
codes = st.sampled_from(
    [
        "H12.01-250303-0001",
        "H12.01-250230-0001",
        "H12.01-250303-001",
        "H 12-250303-0001",
        "Hà-250303-0001",
        "",
    ]
)
short_codes = st.sampled_from(["H12.01", "1.001234", "legacy:718", "a b", "", "x" * 65, "ồ", 12])
statuses = st.sampled_from(
    [
        "receiving",
        "new",
        "processing",
        "waiting",
        "paying",
        "cancelled",
        "denied",
        "unresolved",
        "releasing",
        "done",
        "Processing",
        "4",
        "10",
        "11",
        2,
        10,
        "",
        None,
    ]
)
fees = st.sampled_from(["0", "50000", "007", "-5", "5e4", " 10", "", 0, 50_000, -1, 5.0, None])
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "code": codes,
    "procedure_code": short_codes,
    "agency_code": short_codes,
    "area_code": short_codes,
    "channel": small,
    "online_level": small | st.sampled_from(["full", "partial", "none", "toàn trình"]),
    "status": statuses,
    "status_at": times,
    "submitted_at": times,
    "received_at": times,
    "due_at": times,
    "due_origin": st.sampled_from(["source", "calendar", "", "other"]),
    "finished_at": times,
    "returned_at": times,
    "refused_at": times,
    "cancelled_at": times,
    "stopped_at": times,
    "supplement_requested_at": times,
    "supplement_deadline": times,
    "supplement_provided_at": times,
    "fee_vnd": fees,
    "paid_online": small,
    "rating": small,
    "digitised": flags,
    "reused_data": flags,
    "from_national_store": flags,
    "vneid_authenticated": flags,
    "electronic_result": flags,
    "synced_national": flags,
    "complained": flags,
}
STATUSES = ["receiving", "new", "denied", "processing", "waiting", "paying", "cancelled", "unresolved"]
STATUSES += ["releasing", "done"]
FLAG_FIELDS = ("digitised", "reused_data", "from_national_store", "vneid_authenticated", "synced_national")


STATUS_DATE = {"denied": "refused_at", "cancelled": "cancelled_at", "unresolved": "stopped_at"}
STATUS_DATE |= {"releasing": "finished_at", "done": "returned_at"}


@st.composite
def coherent(draw: st.DrawFn) -> dict[str, Any]:
    """A row the model accepts, in one of the shapes sources send."""
    status = draw(st.sampled_from(["receiving", "new", "processing", "paying", "waiting", *STATUS_DATE]))
    row: dict[str, Any] = {
        "code": "H12.01-250303-0001",
        "procedure_code": draw(st.sampled_from(["1.001234", "SIM.000001"])),
        "agency_code": "H12.01",
        "area_code": "legacy:718",
        "channel": draw(st.sampled_from(["1", "2", "3", 2])),
        "status": draw(st.sampled_from([status, str(STATUSES.index(status) + 1)])),
        "submitted_at": GOOD_TIMES[0],
    }
    if status != "receiving" or draw(st.booleans()):
        row["received_at"] = GOOD_TIMES[1]
        row["due_at"] = draw(st.sampled_from(GOOD_TIMES[2:]))
    if status in STATUS_DATE:
        row[STATUS_DATE[status]] = "2025-03-05T09:00:00+07:00"
    if status == "done" and draw(st.booleans()):
        row["finished_at"] = "2025-03-05T08:00:00+07:00"
    if status == "waiting" or draw(st.integers(0, 4)) == 0:
        row["supplement_requested_at"] = "2025-03-04T08:00:00+07:00"
        if status != "waiting":
            row["supplement_provided_at"] = draw(st.sampled_from(["2025-03-04T10:00:00+07:00", ""]))
    for name in draw(st.lists(st.sampled_from(list(FLAG_FIELDS)), max_size=3, unique=True)):
        row[name] = draw(st.sampled_from(["0", "1", "true", True]))
    if draw(st.booleans()):
        row["fee_vnd"] = draw(st.sampled_from(["50000", 20_000]))
        row["paid_online"] = draw(st.sampled_from(["1", "2", ""]))
    if draw(st.booleans()):
        row["rating"] = draw(st.sampled_from(["1", "3", 2]))
    return row


@st.composite
def tables(draw: st.DrawFn) -> tuple[tuple[str, ...], list[list[Any]]]:
    """Coherent rows, some with a cell or two replaced by odd values."""
    dicts = [draw(coherent()) for _ in range(draw(st.integers(1, 4)))]
    for row in dicts:
        for name in draw(st.lists(st.sampled_from(list(FIELDS)), max_size=2, unique=True)):
            row[name] = draw(FIELDS[name])
    header = tuple(dict.fromkeys(name for row in dicts for name in row))
    return header, [[row.get(name, "") for name in header] for row in dicts]


def model_record(header: tuple[str, ...], rows: list[list[Any]], position: int) -> Any:
    try:
        return parse_with_model(Chunk(header, rows, list(range(len(rows)))).as_model_input(position))
    except (RowError, ValueError) as error:
        return error


@settings(max_examples=400, deadline=None)
@given(tables())
def test_what_the_fast_path_takes_the_model_takes_alike(
    table: tuple[tuple[str, ...], list[list[Any]]],
) -> None:
    header, rows = table
    for position, fast in enumerate(parse_table(header, rows)):
        if fast is not None:
            assert model_record(header, rows, position) == fast


def test_the_fast_path_takes_well_formed_rows() -> None:
    header = (
        "code",
        "procedure_code",
        "agency_code",
        "area_code",
        "channel",
        "online_level",
        "status",
        "submitted_at",
        "received_at",
        "due_at",
        "finished_at",
        "returned_at",
        "supplement_requested_at",
        "supplement_provided_at",
        "fee_vnd",
        "paid_online",
        "digitised",
        "rating",
    )
    done = [
        "H12.01-250303-0001",
        "1.001234",
        "H12.01",
        "legacy:718",
        "2",
        "4",
        "10",
        *GOOD_TIMES[:2],
        "2025-03-10T17:00:00+07:00",
        "2025-03-07T10:00:00+07:00",
        "2025-03-07T11:00:00+07:00",
        "2025-03-04T08:00:00+07:00",
        "2025-03-05T08:00:00+07:00",
        "50000",
        "1",
        "1",
        "3",
    ]
    waiting = [*done[:6], "waiting", *done[7:10], "", "", done[12], "", "0", "", "0", ""]
    parsed = parse_table(header, [done, waiting])
    assert None not in parsed
    assert parsed == [model_record(header, [done, waiting], 0), model_record(header, [done, waiting], 1)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("received_at", "2025-03-03T08:00:00", "timezone"),
        ("channel", "7", "channel"),
        ("status", "archived", "status"),
        ("code", "H12.01-251399-0001", "valid date"),
    ],
)
def test_rows_it_leaves_to_the_model_get_the_models_error(field: str, value: str, message: str) -> None:
    header = ("code", "procedure_code", "agency_code", "area_code", "channel", "status", "received_at")
    row = ["H12.01-250303-0001", "1.001234", "H12.01", "legacy:718", "1", "new", GOOD_TIMES[0]]
    row[header.index(field)] = value
    assert parse_table(header, [row]) == [None]
    error = model_record(header, [row], 0)
    assert isinstance(error, RowError)
    assert any(field in name and message in text for name, text in error.problems) or message in str(error)
