"""Calibrating the simulated province to the published Bình Dương figures.

Published (see docs/services.md for sources): 1,942 procedures (1,557 provincial, 258 district, 127
commune); 485,067 dossiers received in a year, 31.90 % of them online; 1,159 procedures online (partial or
full), 892 of them full; 680 fee-bearing procedures, all payable online; Decision 766 index 2023: province
80.21, districts Thủ Dầu Một 88.6, Dĩ An 87.7, Bắc Tân Uyên 86.8, Tân Uyên 85.2, Phú Giáo 85.0, Bàu Bàng
81.2, Dầu Tiếng 81.1, Bến Cát 80.9, Thuận An 74.6.

Everything else is an assumption of ours, stated here: the split of dossiers between tiers, the shares
of withdrawn, refused, stopped and supplemented dossiers, and how a locality's service quality `q`
(0 weak … 1 excellent) moves each rate (`rates`). `q` is solved per district (and for the provincial
agencies) so that the index of the expected counts equals the published score; the generator draws from
the same rates, so a generated year scores close to the published figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date

from cityops.services.catalogue import CatalogueStats
from cityops.services.index.accumulator import Aggregates
from cityops.services.index.decision766 import IndexConfig, score

PROCEDURES = {"province": 1_557, "district": 258, "commune": 127}
ONLINE_PROCEDURES = 1_159
FULL_ONLINE_PROCEDURES = 892
FEE_PROCEDURES = 680
DOSSIERS_PER_YEAR = 485_067
ONLINE_SHARE = 0.319
INDEX_2023_PROVINCE = 80.21
INDEX_2023_DISTRICTS = {  # legacy district code -> published 766 score for 2023
    "legacy:718": 88.6,  # Thủ Dầu Một
    "legacy:724": 87.7,  # Dĩ An
    "legacy:726": 86.8,  # Bắc Tân Uyên
    "legacy:723": 85.2,  # Tân Uyên
    "legacy:722": 85.0,  # Phú Giáo
    "legacy:719": 81.2,  # Bàu Bàng
    "legacy:720": 81.1,  # Dầu Tiếng
    "legacy:721": 80.9,  # Bến Cát
    "legacy:725": 74.6,  # Thuận An
}
# Approximate population (2019 census, thousands): how a district's dossiers weigh against the others'.
DISTRICT_POPULATION = {
    "legacy:718": 321,
    "legacy:719": 96,
    "legacy:720": 114,
    "legacy:721": 264,
    "legacy:722": 92,
    "legacy:723": 371,
    "legacy:724": 403,
    "legacy:725": 508,
    "legacy:726": 67,
}
# Assumptions.
TIER_SHARES_BEFORE_REFORM = {"province": 0.30, "district": 0.35, "commune": 0.35}
TIER_SHARES_AFTER_REFORM = {"province": 0.35, "commune": 0.65}
POSTAL_SHARE = 0.02
WITHDRAWN_SHARE = 0.015
REFUSED_SHARE = 0.01
STOPPED_SHARE = 0.005
SUPPLEMENT_SHARE = 0.05
RATED_SHARE = 0.30  # of dossiers whose result was returned
SOURCE_DUE_DIFFERS = 0.01  # the one-stop system's due date is a working day off the calendar's
PUBLISHED_ON_TIME = 0.98  # procedures published, updated and published complete on time


@dataclass(frozen=True)
class Rates:
    on_time: float  # processed early or on time
    synced: float  # synced to the national portal
    digitised: float
    reused: float
    national_store: float
    electronic_result: float  # of processed dossiers
    paid_online: float  # of fee dossiers
    vneid: float  # of online dossiers
    complaint: float  # of received dossiers
    satisfied: float  # of rated dossiers


WEAK = Rates(0.70, 0.60, 0.30, 0.20, 0.20, 0.40, 0.20, 0.30, 0.03, 0.80)
EXCELLENT = Rates(0.995, 1.0, 0.95, 0.85, 0.95, 1.0, 0.95, 1.0, 0.002, 0.98)


def rates(quality: float) -> Rates:
    if not 0 <= quality <= 1:
        raise ValueError(f"quality: {quality} is not within 0–1")
    return Rates(
        *(
            getattr(WEAK, f.name) + quality * (getattr(EXCELLENT, f.name) - getattr(WEAK, f.name))
            for f in fields(Rates)
        )
    )


def expected_aggregates(quality: float, received: int, fee_share: float) -> Aggregates:
    """The counts a full past year of `received` dossiers of quality `quality` is expected to give."""
    r = rates(quality)
    n = received
    online = n * ONLINE_SHARE
    withdrawn, refused, stopped = n * WITHDRAWN_SHARE, n * REFUSED_SHARE, n * STOPPED_SHARE
    processed = n - withdrawn - refused - stopped
    fee = n * fee_share
    rated = processed * RATED_SHARE
    unsatisfied = rated * (1 - r.satisfied)
    complained = n * r.complaint + unsatisfied * (1 - r.complaint)
    timely = processed * r.on_time + withdrawn + refused
    return Aggregates(
        received=n,
        online=round(online),
        postal=round(n * POSTAL_SHARE),
        digitised=round(n * r.digitised),
        reused=round(n * r.reused),
        national_store=round(n * r.national_store),
        online_vneid=round(online * r.vneid),
        synced=round(n * r.synced),
        fee=round(fee),
        paid_online=round(fee * r.paid_online),
        rated=round(rated),
        satisfied=round(rated - unsatisfied),
        complained=round(complained),
        early=round(timely),
        late=round(processed * (1 - r.on_time)),
        processed=round(processed),
        withdrawn=round(withdrawn),
        refused=round(refused),
        stopped=round(stopped),
        electronic_result=round(processed * r.electronic_result),
    )


def solve(target: float, index_of: Callable[[float], float | None], steps: int = 40) -> float:
    """The quality in [0, 1] whose index is `target` (the nearest end when out of reach)."""
    low, high = 0.0, 1.0
    for _ in range(steps):
        middle = (low + high) / 2
        value = index_of(middle)
        if value is None:
            raise ValueError("index: not available for these counts")
        if value < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True)
class Calibration:
    province_quality: float  # the provincial agencies
    district_quality: dict[str, float]  # legacy district code -> quality of it and its wards


def calibrate(
    config: IndexConfig,
    local_stats: CatalogueStats,
    all_stats: CatalogueStats,
    fee_share: dict[str, float],
    on: date = date(2023, 12, 31),
    size: int = 1_000_000,
) -> Calibration:
    """Qualities whose expected indices equal the published 2023 scores. `fee_share` gives, per tier
    (province, local), the share of dossiers that carry a fee."""
    weights = district_weights()
    local_size = size * (1 - TIER_SHARES_BEFORE_REFORM["province"])
    districts: dict[str, float] = {}
    local_counts: list[Aggregates] = []
    for code, target in INDEX_2023_DISTRICTS.items():
        received = round(local_size * weights[code])

        def district_index(q: float, n: int = received) -> float | None:
            counts = expected_aggregates(q, n, fee_share["local"])
            return score(config, on, dossiers=counts, catalogue=local_stats).index

        quality = solve(target, district_index)
        districts[code] = quality
        local_counts.append(expected_aggregates(quality, received, fee_share["local"]))
    provincial = round(size * TIER_SHARES_BEFORE_REFORM["province"])

    def province_index(q: float) -> float | None:
        counts = [*local_counts, expected_aggregates(q, provincial, fee_share["province"])]
        return score(config, on, dossiers=_sum(counts), catalogue=all_stats).index

    return Calibration(solve(INDEX_2023_PROVINCE, province_index), districts)


def district_weights() -> dict[str, float]:
    total = sum(DISTRICT_POPULATION.values())
    return {code: people / total for code, people in DISTRICT_POPULATION.items()}


def _sum(items: list[Aggregates]) -> Aggregates:
    return Aggregates(*(sum(getattr(a, f.name) for a in items) for f in fields(Aggregates)))
