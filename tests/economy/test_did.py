"""The pilot comparison on constructed localities whose effect is known."""

from __future__ import annotations

import random

import pytest

from cityops.economy.did import ComparisonError, Locality, difference_in_differences


def constructed(effect: float, seed: int, pilots: int = 6, others: int = 8) -> list[Locality]:
    rng = random.Random(seed)
    localities = []
    for index in range(pilots + others):
        pilot = index < pilots
        base = rng.uniform(20, 60)  # localities differ in level; DiD removes that
        trend = 3.0  # every locality grows alike
        after = base + trend + (effect if pilot else 0.0) + rng.gauss(0, 1.0)
        localities.append(Locality(f"area-{index}", pilot, base + rng.gauss(0, 1.0), after))
    return localities


@pytest.mark.parametrize("seed", range(5))
def test_a_known_effect_is_found_with_its_interval(seed: int) -> None:
    estimate = difference_in_differences(constructed(10.0, seed), seed=seed)
    assert abs(estimate.effect - 10.0) < 2.0
    assert estimate.low < 10.0 < estimate.high
    assert estimate.low > 0  # clearly there
    assert (estimate.pilots, estimate.others) == (6, 8)
    assert abs(estimate.other_change - 3.0) < 1.5  # the common trend, not counted as effect


@pytest.mark.parametrize("seed", range(5))
def test_no_effect_gives_an_interval_around_zero(seed: int) -> None:
    estimate = difference_in_differences(constructed(0.0, seed), seed=seed)
    assert estimate.low < 0.0 < estimate.high
    assert estimate.high - estimate.low < 4.0


def test_a_level_difference_alone_is_no_effect() -> None:
    localities = [Locality(f"p{i}", True, 100.0 + i, 103.0 + i) for i in range(3)]
    localities += [Locality(f"o{i}", False, 10.0 + i, 13.0 + i) for i in range(3)]
    estimate = difference_in_differences(localities)
    assert estimate.effect == pytest.approx(0.0)
    assert estimate.low == pytest.approx(0.0) and estimate.high == pytest.approx(0.0)


def test_too_few_localities_are_refused() -> None:
    with pytest.raises(ComparisonError, match="at least 2 pilot and 2 non-pilot"):
        difference_in_differences(
            [Locality("a", True, 1, 2), Locality("b", False, 1, 1), Locality("c", False, 1, 1)]
        )
