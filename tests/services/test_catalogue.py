"""Procedures, agencies with validity dates (two-tier reform), online levels old and new."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from cityops.services.catalogue import (
    Agency,
    Catalogue,
    OnlineLevel,
    Procedure,
    UnknownAgencyError,
    UnknownProcedureError,
)


def procedure(**changes: Any) -> Procedure:
    data: dict[str, Any] = {
        "code": "1.001234",
        "name": "Cấp giấy phép xây dựng",
        "field": "Xây dựng",
        "level": "full",
        "duration": 15,
        "duration_unit": "working_days",
        "agency_level": "province",
    }
    return Procedure(**(data | changes))


@pytest.mark.parametrize(
    ("given", "level"),
    [
        (2, OnlineLevel.NONE),
        (3, OnlineLevel.PARTIAL),
        (4, OnlineLevel.FULL),
        ("4", OnlineLevel.FULL),
        ("toàn trình", OnlineLevel.FULL),
        ("Một phần", OnlineLevel.PARTIAL),
        ("partial", OnlineLevel.PARTIAL),
    ],
)
def test_online_levels_accept_legacy_numbers_and_vietnamese_names(given: object, level: OnlineLevel) -> None:
    parsed = procedure(level=given)
    assert parsed.level is level
    assert OnlineLevel(procedure(level=parsed.legacy_level).level) is level


@pytest.mark.parametrize("given", [5, 0, "level three", True])
def test_unknown_online_levels_are_refused(given: object) -> None:
    with pytest.raises(ValidationError, match=r"level"):
        procedure(level=given)


def test_procedure_consistency_checks_name_the_field() -> None:
    with pytest.raises(ValidationError, match=r"duration: 2.5 calendar days"):
        procedure(duration=2.5, duration_unit="calendar_days")
    with pytest.raises(ValidationError, match=r"online_payment: set on a procedure without fee"):
        procedure(online_payment=True)
    with pytest.raises(ValidationError, match=r"duration"):
        procedure(duration=0)


def test_district_agencies_end_with_the_reform() -> None:
    district = Agency(
        code="H12.21",
        name="UBND thành phố Thủ Dầu Một",
        area_code="718",
        level="district",
        valid_to=date(2025, 7, 1),
    )
    assert district.active_on(date(2025, 6, 30))
    assert not district.active_on(date(2025, 7, 1))
    with pytest.raises(ValidationError, match=r"valid_to: district-level agencies ended on 2025-07-01"):
        Agency(code="H12.22", name="UBND huyện Dầu Tiếng", area_code="720", level="district")
    with pytest.raises(ValidationError, match=r"valid_to: .* is not after valid_from"):
        Agency(
            code="X",
            name="X",
            area_code="1",
            level="commune",
            valid_from=date(2025, 7, 1),
            valid_to=date(2025, 7, 1),
        )


def test_catalogue_finds_the_agency_version_valid_on_a_day() -> None:
    old = Agency(
        code="X.1",
        name="UBND phường Phú Cường",
        area_code="25747",
        level="commune",
        valid_to=date(2025, 7, 1),
    )
    new = Agency(
        code="X.1",
        name="UBND phường Thủ Dầu Một",
        area_code="25747",
        level="commune",
        valid_from=date(2025, 7, 1),
    )
    catalogue = Catalogue([procedure()], [old, new])
    assert catalogue.agency("X.1", date(2025, 6, 1)) == old
    assert catalogue.agency("X.1", date(2025, 8, 1)) == new
    assert catalogue.agency("X.1") == new
    assert catalogue.agencies(date(2025, 6, 1)) == [old]
    with pytest.raises(UnknownAgencyError, match=r"agency_code: 'Y' is not a known agency"):
        catalogue.agency("Y")
    with pytest.raises(
        UnknownProcedureError, match=r"procedure_code: '9.9' is not in the procedure catalogue"
    ):
        catalogue.procedure("9.9")


def test_overlapping_versions_and_duplicate_procedures_are_refused() -> None:
    a = Agency(code="X.1", name="A", area_code="1", level="commune")
    with pytest.raises(ValueError, match=r"two versions valid at the same time"):
        Catalogue([], [a, a])
    with pytest.raises(ValueError, match=r"listed twice"):
        Catalogue([procedure(), procedure()])


def test_catalogue_stats_count_each_flag() -> None:
    procedures = [
        procedure(code="a", level=4, fee_bearing=True, online_payment=True, on_national_portal=True),
        procedure(code="b", level=3, fee_bearing=True, published_on_time=False),
        procedure(code="c", level=2, updated_on_time=False, publication_complete=False),
        procedure(code="d", level="partial", on_national_portal=True),
    ]
    stats = Catalogue(procedures).stats()
    assert (stats.procedures, stats.online, stats.full, stats.online_on_national_portal) == (4, 3, 1, 2)
    assert (stats.fee_bearing, stats.fee_bearing_with_online_payment) == (2, 1)
    assert (stats.published_on_time, stats.updated_on_time, stats.publication_complete) == (3, 3, 3)
