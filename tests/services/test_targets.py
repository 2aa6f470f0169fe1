"""The province's 2025 targets, the GOV.UK trio, and the year-end projection at the current pace."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.services.catalogue import CatalogueStats
from cityops.services.dossiers.classification import ONLINE, DossierFacts, EndKind
from cityops.services.index.accumulator import PROVINCE, Aggregates, IndexAccumulator
from cityops.services.index.targets import (
    evaluate_targets,
    load_targets,
    monthly_aggregates,
    project_year_end,
    service_trio,
    targets_in_force,
)
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import timestamp

TARGETS = load_targets()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def test_the_2025_targets() -> None:
    assert {(t.id, t.metric, t.minimum) for t in TARGETS} == {
        ("online_dossiers", "online_dossier_share", 0.5),
        ("satisfaction", "satisfaction_share", 0.9),
        ("electronic_authentication", "online_authenticated_share", 1.0),
        ("national_portal", "online_services_on_national_portal", 1.0),
    }
    assert {t.year for t in TARGETS} == {2025}


@given(st.floats(0, 1), st.lists(st.integers(1, 10_000), min_size=1, max_size=12), st.integers(1, 28))
def test_a_steady_rate_projects_to_itself(rate: float, dossiers: list[int], day: int) -> None:
    months = [(rate * d, float(d)) for d in dossiers]
    as_of = vn(2025, len(months), day, 12)  # within the last month given
    projected = project_year_end(months, as_of)
    assert projected == pytest.approx(rate)


def test_projection_follows_the_recent_pace() -> None:
    months = [(40.0, 100.0), (45.0, 100.0), (60.0, 100.0)]
    as_of = vn(2025, 4, 1)  # 90 of 365 days elapsed
    remaining = 300 * (275 / 365) / (90 / 365)
    assert project_year_end(months, as_of, window=1) == pytest.approx(
        (145 + 0.6 * remaining) / (300 + remaining)
    )
    assert project_year_end(months, as_of, window=3) == pytest.approx(145 / 300)
    assert project_year_end(months, vn(2025, 1, 1)) is None  # no time elapsed, no pace
    with pytest.raises(ValueError, match=r"months"):
        project_year_end([], as_of)


def test_targets_now_and_at_year_end() -> None:
    # Online share: 30 %, 40 %, 60 %, then 80 % of a half month — behind now, on track at the recent pace.
    online = [(30, 100), (40, 100), (60, 100), (40, 50)]
    monthly = [Aggregates(received=r, online=o, rated=10, satisfied=9, online_vneid=o - 1) for o, r in online]
    year = Aggregates(received=350, online=170, rated=40, satisfied=36, online_vneid=166)
    catalogue = CatalogueStats(online=10, online_on_national_portal=10)
    as_of = vn(2025, 4, 15, 12)
    found = evaluate_targets(
        TARGETS, year=2025, year_aggregates=year, monthly=monthly, catalogue=catalogue, as_of=as_of
    )
    statuses = {s.target.id: s for s in found}
    share = statuses["online_dossiers"]
    assert share.current == pytest.approx(170 / 350) and share.met is False
    assert share.projected == pytest.approx(project_year_end([(o, r) for o, r in online], as_of))
    assert share.projected is not None and share.projected > 0.5 and share.on_track is True
    assert statuses["satisfaction"].current == pytest.approx(0.9) and statuses["satisfaction"].met
    authenticated = statuses["electronic_authentication"]
    assert authenticated.current == pytest.approx(166 / 170)
    assert authenticated.met is False and authenticated.on_track is False
    assert statuses["national_portal"].met and statuses["national_portal"].projected == 1.0
    assert (
        evaluate_targets(
            TARGETS, year=2024, year_aggregates=year, monthly=monthly, catalogue=None, as_of=as_of
        )
        == []
    )


def test_targets_stay_in_force_until_replaced() -> None:
    later = TARGETS[0].model_copy(update={"year": 2027, "minimum": 0.7})
    targets = [*TARGETS, later]
    assert targets_in_force(targets, 2024) == []
    assert targets_in_force(targets, 2025) == TARGETS
    assert targets_in_force(targets, 2026) == TARGETS  # no new plan yet: the 2025 minimums still hold
    in_2027 = targets_in_force(targets, 2027)
    assert later in in_2027 and TARGETS[0] not in in_2027 and len(in_2027) == len(TARGETS)


def test_service_trio() -> None:
    trio = service_trio(
        Aggregates(received=8, online=6, processed=6, withdrawn=1, refused=1, stopped=2, rated=4, satisfied=3)
    )
    assert (trio.digital_take_up, trio.completion_rate, trio.user_satisfaction) == (6 / 8, 6 / 10, 3 / 4)
    assert service_trio(Aggregates()).digital_take_up is None


def test_monthly_aggregates_from_the_accumulator() -> None:
    accumulator = IndexAccumulator(vn(2025, 3, 15))
    for month in (1, 3):
        received = timestamp("r", vn(2025, month, 5, 9))
        accumulator.update(
            None, DossierFacts("A", "X", received, None, received + 3600, EndKind.PROCESSED, (), ONLINE)
        )
    months = monthly_aggregates(accumulator, PROVINCE, 2025)
    assert [m.online for m in months] == [1, 0, 1]
    assert len(monthly_aggregates(accumulator, PROVINCE, 2024)) == 12
    assert monthly_aggregates(accumulator, PROVINCE, 2026) == []
    with pytest.raises(ValueError, match=r"keeps no months"):
        monthly_aggregates(IndexAccumulator(vn(2025, 3, 15), ("year",)), PROVINCE, 2025)
