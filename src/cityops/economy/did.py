"""Pilot against non-pilot localities, before and after the programme starts: a difference in
differences with a bootstrap confidence interval.

Each locality contributes one change (its mean after minus its mean before). The effect is the mean
change of the pilots minus the mean change of the others: what the pilots gained beyond the trend the
others show. Its uncertainty comes from resampling localities with replacement within each group
(a cluster bootstrap, so days of one locality are never treated as independent), and the interval is
the percentile interval of the resampled effects. It assumes the two groups would have moved alike
without the programme (parallel trends); with few localities the interval is wide, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

METHOD = (
    "difference in differences of locality means (pilot change − non-pilot change), 95 % percentile "
    "interval from a cluster bootstrap over localities; assumes parallel trends"
)


class ComparisonError(ValueError):
    pass


@dataclass(frozen=True)
class Locality:
    code: str
    pilot: bool
    before: float
    after: float


@dataclass(frozen=True)
class Estimate:
    effect: float
    low: float
    high: float
    confidence: float
    resamples: int
    pilots: int
    others: int
    pilot_change: float
    other_change: float
    method: str = METHOD


def difference_in_differences(
    localities: Sequence[Locality], resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> Estimate:
    pilots = np.array([loc.after - loc.before for loc in localities if loc.pilot], dtype=float)
    others = np.array([loc.after - loc.before for loc in localities if not loc.pilot], dtype=float)
    if len(pilots) < 2 or len(others) < 2:
        raise ComparisonError(
            f"needs at least 2 pilot and 2 non-pilot localities with data before and after "
            f"(has {len(pilots)} and {len(others)})"
        )
    rng = np.random.default_rng(seed)
    pilot_means = pilots[rng.integers(0, len(pilots), (resamples, len(pilots)))].mean(axis=1)
    other_means = others[rng.integers(0, len(others), (resamples, len(others)))].mean(axis=1)
    effects = pilot_means - other_means
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(effects, [tail, 1.0 - tail])
    return Estimate(
        effect=float(pilots.mean() - others.mean()),
        low=float(low),
        high=float(high),
        confidence=confidence,
        resamples=resamples,
        pilots=len(pilots),
        others=len(others),
        pilot_change=float(pilots.mean()),
        other_change=float(others.mean()),
    )
