"""Decision 766 indicators: configuration checks, the scoring formula, each indicator on a hand-computed
case, availability and rating bands."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cityops.services.catalogue import CatalogueStats
from cityops.services.index.accumulator import Aggregates
from cityops.services.index.decision766 import (
    DEFAULT_CONFIG,
    FeedbackStats,
    IndexConfig,
    indicator_points,
    score,
)

CONFIG = IndexConfig.load()
ON = date(2025, 6, 30)
DOSSIERS = Aggregates(
    received=10,
    online=4,
    synced=9,
    fee=5,
    paid_online=2,
    digitised=8,
    reused=6,
    national_store=2,
    online_vneid=3,
    complained=1,
    early=3,
    on_time=2,
    late=1,
    within_time=2,
    overdue=2,
    processed=5,
    electronic_result=4,
    processing_seconds=5 * 2 * 86_400,
)
CATALOGUE = CatalogueStats(
    procedures=10,
    published_on_time=10,
    updated_on_time=9,
    publication_complete=8,
    online=6,
    fee_bearing=4,
    fee_bearing_with_online_payment=4,
)
FEEDBACK = FeedbackStats(
    within_competence=20, handled_on_time=18, answered=10, unsatisfied_recomplained_or_late=1
)

# value, points — computed by hand from the numbers above and index766.toml's maxima and thresholds.
EXPECTED = {
    "1.1": (10 / 10, 4.0),
    "1.2": (9 / 10, 4 * 0.9),
    "1.3": (8 / 10, 4 * 0.8),
    "1.4": (9 / 10, 6 * 0.9),
    "2.1": ((3 + 2 + 2) / (3 + 2 + 1 + 2 + 2), 20 * 0.7),  # early + on time + within / all judged
    "2.2": (10 / 5, 0.0),  # 10 days of processing over 5 processed dossiers; informational
    "3.1": (6 / 10, 6 * 0.6 / 0.8),
    "3.3": (4 / 10, 6 * 0.4 / 0.5),
    "3.5": (4 / 4, 4.0),
    "3.6": (2 / 5, 6 * 0.4),
    "4.1": (4 / 5, 4 * 0.8),
    "4.2": (8 / 10, 6.0),  # at the 80 % threshold: full points
    "4.3": (6 / 10, 4 * 0.6 / 0.8),
    "4.4": (2 / 10, 4 * 0.2),
    "4.5": (3 / 4, 4 * 0.75),  # VNeID-authenticated among online dossiers
    "5.1": (18 / 20, 6 * 0.9),
    "5.2": ((10 - 1) / 10, 6 * 0.9),
    "5.3": (1 - (1 + 2) / 10 - 1 / 10, 6 * 0.6 / 0.9),  # 100 % − late rate − complaint rate
}


def test_default_configuration_has_the_five_groups_of_766() -> None:
    assert [(g.id, g.max_points) for g in CONFIG.groups] == [
        ("publicity", 18),
        ("progress", 20),
        ("online", 22),
        ("digitisation", 22),
        ("satisfaction", 18),
    ]
    assert {i.id for i in CONFIG.active(ON)} == set(EXPECTED)
    assert all(i.effective_from == date(2022, 8, 1) for i in CONFIG.indicators)
    assert CONFIG.active(date(2022, 7, 31)) == []


def test_each_indicator_on_a_hand_computed_case() -> None:
    result = score(CONFIG, ON, dossiers=DOSSIERS, catalogue=CATALOGUE, feedback=FEEDBACK)
    for indicator in result.indicators:
        value, points = EXPECTED[indicator.id]
        assert indicator.value == pytest.approx(value), indicator.id
        assert indicator.points == pytest.approx(points), indicator.id
    groups = {g.id: g.points for g in result.groups}
    assert groups["publicity"] == pytest.approx(4 + 3.6 + 3.2 + 5.4)
    assert groups["digitisation"] == pytest.approx(3.2 + 6 + 3 + 0.8 + 3)
    assert result.points == pytest.approx(sum(points for _, points in EXPECTED.values()))
    assert result.available == 100 and result.index == pytest.approx(result.points)
    assert result.band is not None and result.band.id == "good"


def test_missing_sources_leave_the_maximum_and_the_index_is_scaled() -> None:
    result = score(CONFIG, ON, dossiers=DOSSIERS, catalogue=CATALOGUE)
    feedback_points = EXPECTED["5.1"][1] + EXPECTED["5.2"][1]
    assert result.available == 88
    assert result.points == pytest.approx(sum(p for _, p in EXPECTED.values()) - feedback_points)
    assert result.index == pytest.approx(100 * result.points / 88)
    empty = score(CONFIG, ON, dossiers=Aggregates())
    assert empty.index is None and empty.band is None
    assert all(i.points is None for i in empty.indicators)


@given(st.floats(0, 1), st.floats(0, 30), st.floats(0.05, 1))
def test_points_are_capped_proportional_to_the_threshold(
    value: float, maximum: float, threshold: float
) -> None:
    points = indicator_points(value, maximum, threshold)
    assert points is not None and 0 <= points <= maximum
    assert points == pytest.approx(maximum if value >= threshold else maximum * value / threshold)
    higher = indicator_points(min(1.0, value + 0.1), maximum, threshold)
    assert higher is not None and higher >= points


@pytest.mark.parametrize(
    ("index", "band"),
    [
        (100, "excellent"),
        (90, "excellent"),
        (89.99, "good"),
        (70, "good"),
        (69.9, "average"),
        (50, "average"),
        (49.99, "weak"),
        (0, "weak"),
    ],
)
def test_rating_bands(index: float, band: str) -> None:
    assert CONFIG.band(index).id == band


def raw() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def test_an_indicator_changed_at_a_date_applies_from_that_date() -> None:
    data = raw()
    old = next(i for i in data["indicator"] if i["id"] == "3.3")
    old["effective_to"] = date(2025, 1, 1)
    data["indicator"].append(
        old | {"threshold": 0.8, "effective_from": date(2025, 1, 1), "effective_to": None}
    )
    config = IndexConfig.model_validate(data)
    before = score(config, date(2024, 12, 31), dossiers=DOSSIERS)
    after = score(config, date(2025, 1, 1), dossiers=DOSSIERS)
    points = {i.id: i.points for i in before.indicators}, {i.id: i.points for i in after.indicators}
    assert points[0]["3.3"] == pytest.approx(6 * 0.4 / 0.5)
    assert points[1]["3.3"] == pytest.approx(6 * 0.4 / 0.8)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["group"][0].update(max_points=19), "add up to 101"),
        (lambda d: d["indicator"][0].update(max_points=5), "group publicity indicators add up to 19"),
        (
            lambda d: d["indicator"][0].update(formula="nonsense"),
            "formula: 'nonsense' is not a catalogue formula",
        ),
        (lambda d: d["indicator"][0].update(group="speed"), "unknown group 'speed'"),
        (lambda d: d["indicator"][0].update(threshold=0), "threshold"),
        (lambda d: d["band"].reverse(), "highest first"),
        (lambda d: d["indicator"][0]["name"].pop("ja"), "ja"),
    ],
)
def test_inconsistent_configuration_is_refused(edit: Any, message: str) -> None:
    data = raw()
    edit(data)
    with pytest.raises(ValidationError, match=message):
        IndexConfig.model_validate(data)


def test_unreadable_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[group]]\nid = \n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken.toml"):
        IndexConfig.load(path)
