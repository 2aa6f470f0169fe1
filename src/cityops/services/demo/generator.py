"""SIMULATED demo data: a province-year of dossiers shaped like Bình Dương's (see `calibration`).

Nothing here is real: every procedure, agency and dossier is invented and labelled so — procedure names
start with "[Mô phỏng]", codes with "SIM". Only the aggregate figures are calibrated on published ones.

`DemoProvince` builds the catalogue (1,942 procedures, provincial departments, the legacy district and
ward People's Committees valid until the 1 July 2025 reform, the 2025 wards after it) and draws
dossiers month by month with numpy: receipt on working days inside office hours, the legal due date from
the working calendar (now and then a source that disagrees by a working day), processing early, on time
or late, supplements, withdrawals, refusals, stops, online payment, digitisation, ratings. Dossiers are
cut at `until`: what would happen later has not happened yet (still processing, waiting for the citizen,
result not yet returned). The output is the importer's input (`readers.Chunk` of CSV-like text cells).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cityops.services.catalogue import REFORM_DATE, Agency, Catalogue, OnlineLevel, Procedure
from cityops.services.demo import calibration as cal
from cityops.services.importing.readers import Chunk
from cityops.services.index.decision766 import IndexConfig
from cityops.services.localities import AreaBook
from cityops.services.timing.calendar import VN_TZ, WorkingCalendar
from cityops.services.timing.due_dates import UNIT_CODES, DueDateArrays, duration_seconds
from cityops.services.timing.periods import DAY_S, VN_OFFSET_S

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
HEADER = (
    "code",
    "procedure_code",
    "agency_code",
    "area_code",
    "channel",
    "online_level",
    "status",
    "status_at",
    "submitted_at",
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "refused_at",
    "cancelled_at",
    "stopped_at",
    "supplement_requested_at",
    "supplement_deadline",
    "supplement_provided_at",
    "fee_vnd",
    "paid_online",
    "digitised",
    "reused_data",
    "from_national_store",
    "vneid_authenticated",
    "electronic_result",
    "synced_national",
    "rating",
    "complained",
)
NOT_YET = np.iinfo(np.int64).max  # an event that has not happened (yet)
WORKING_DAY_S = 8 * 3600
FIELDS = (
    "Đất đai",
    "Xây dựng",
    "Hộ tịch",
    "Chứng thực",
    "Đăng ký kinh doanh",
    "Đầu tư",
    "Lao động",
    "Giáo dục và Đào tạo",
    "Y tế",
    "Giao thông vận tải",
    "Tài nguyên và Môi trường",
    "Công thương",
    "Nông nghiệp",
    "Bảo trợ xã hội",
    "Văn hóa, Thể thao và Du lịch",
    "Tư pháp",
)
DEPARTMENTS = 20
PROVINCE_BEFORE, PROVINCE_AFTER = "legacy:74", "2025:79"
FEES = np.array([20_000, 50_000, 100_000, 200_000, 500_000], dtype=np.int64)
# Dossiers by month (Tết slows January–February), relative to an even spread.
SEASON = np.array([0.8, 0.75, 1.1, 1.05, 1.05, 1.05, 1.05, 1.05, 1.0, 1.05, 1.0, 1.05])


@dataclass(frozen=True)
class Unit:
    """An agency receiving dossiers over [start, end) days, with its share of the dossiers (of its tier,
    for a provincial department) and its quality."""

    agency: str
    tier: str  # province, district, commune
    area: str | None  # None: the province's code of the day
    weight: float
    quality: float
    start: date
    end: date


class DemoProvince:
    def __init__(
        self, area_book: AreaBook, calendar: WorkingCalendar | None = None, seed: int = 2023
    ) -> None:
        self.area_book = area_book
        self.calendar = calendar or WorkingCalendar()
        self.seed = seed
        self.procedures = _procedures(np.random.default_rng(seed))
        self.agencies, self._legacy, self._new = _agencies(area_book)
        self.catalogue = Catalogue(self.procedures, self.agencies)
        config = IndexConfig.load()
        local = Catalogue([p for p in self.procedures if p.agency_level != "province"]).stats()
        fee_share = {
            "province": _fee_share(self.procedures, True),
            "local": _fee_share(self.procedures, False),
        }
        self.calibration = cal.calibrate(config, local, self.catalogue.stats(), fee_share)
        self._pools = self._procedure_pools()
        amounts = [duration_seconds(self.calendar, p.duration, p.duration_unit) for p in self.procedures]
        if any(a is None for a in amounts):
            raise ValueError("duration: simulated procedures must last whole seconds of working time")
        self._amount = np.array(amounts, dtype=np.int64)
        self._unit = np.array([UNIT_CODES[p.duration_unit] for p in self.procedures], dtype=np.int64)
        self._fee_bearing = np.array([p.fee_bearing for p in self.procedures])
        self._codes = np.array([p.code for p in self.procedures])
        self._levels = np.array([str(p.legacy_level) if p.level.is_online else "" for p in self.procedures])

    # -- what receives dossiers ---------------------------------------------------------------------------

    def units(self, year: int) -> list[Unit]:
        first, last = date(year, 1, 1), date(year + 1, 1, 1)
        before = (first, min(last, REFORM_DATE)) if first < REFORM_DATE else None
        after = (max(first, REFORM_DATE), last) if last > REFORM_DATE else None
        districts = cal.district_weights()
        quality = self.calibration.district_quality
        found: list[Unit] = []
        province_q = self.calibration.province_quality
        for number in range(1, DEPARTMENTS + 1):
            weight = (1 / number) / sum(1 / k for k in range(1, DEPARTMENTS + 1))
            found.append(Unit(f"SIM.S{number:02d}", "province", None, weight, province_q, first, last))
        if before:
            shares = cal.TIER_SHARES_BEFORE_REFORM
            for district, wards in self._legacy.items():
                q, share = quality[district], districts[district]
                official = district.partition(":")[2]
                found.append(
                    Unit(f"SIM.H{official}", "district", district, shares["district"] * share, q, *before)
                )
                for ward in wards:
                    ward_share = shares["commune"] * share / len(wards)
                    found.append(
                        Unit(f"SIM.X{ward.partition(':')[2]}", "commune", ward, ward_share, q, *before)
                    )
        if after:
            shares = cal.TIER_SHARES_AFTER_REFORM
            for ward, (district, share) in self._new.items():
                weight = shares["commune"] * share
                found.append(
                    Unit(f"SIM.N{ward.partition(':')[2]}", "commune", ward, weight, quality[district], *after)
                )
        return found

    # -- dossiers -----------------------------------------------------------------------------------------

    def chunks(
        self,
        year: int,
        *,
        total: int = cal.DOSSIERS_PER_YEAR,
        until: datetime | None = None,
        chunk_rows: int = 50_000,
    ) -> Iterator[Chunk]:
        """The year's dossiers, month by month in order of receipt, cut at `until` (default: the end of
        the year). `total` is the number of dossiers of the whole year."""
        cut = int((until or datetime(year + 1, 1, 1, tzinfo=VN_TZ)).timestamp())
        arrays = DueDateArrays(self.calendar, year - 1, year + 1)
        rng = np.random.default_rng([self.seed, year])
        days = np.array(self.calendar.working_days(year, year), dtype=np.int64)
        days = days[(days >= date(year, 1, 1).toordinal()) & (days < date(year + 1, 1, 1).toordinal())]
        season = SEASON[[date.fromordinal(int(d)).month - 1 for d in days]]
        day_weight = season / season.sum()
        province_share = np.where(
            days < REFORM_DATE.toordinal(),
            cal.TIER_SHARES_BEFORE_REFORM["province"],
            cal.TIER_SHARES_AFTER_REFORM["province"],
        )
        units = self.units(year)
        number = 1
        for month in range(1, 13):
            in_month = np.array([date.fromordinal(int(d)).month == month for d in days])
            parts = []
            for unit in units:
                valid = in_month & (days >= unit.start.toordinal()) & (days < unit.end.toordinal())
                if not valid.any():
                    continue
                share = day_weight[valid] * (province_share[valid] if unit.tier == "province" else 1.0)
                count = int(rng.poisson(total * unit.weight * float(share.sum())))
                if count:
                    parts.append(self._draw(unit, days[valid], day_weight[valid], count, rng, arrays, cut))
            rows = self._merge(parts, cut)
            for start in range(0, len(rows), chunk_rows):
                batch = rows[start : start + chunk_rows]
                yield Chunk(HEADER, batch, list(range(number, number + len(batch))))
                number += len(batch)

    def _procedure_pools(self) -> dict[tuple[str, bool], tuple[Int64s, Floats]]:
        pools: dict[tuple[str, bool], tuple[Int64s, Floats]] = {}
        for tier in ("province", "district", "commune", "local"):
            for online in (False, True):
                chosen = [
                    i
                    for i, p in enumerate(self.procedures)
                    if (p.agency_level == tier or (tier == "local" and p.agency_level != "province"))
                    and (p.level.is_online or not online)
                ]
                weights = 1 / np.arange(1, len(chosen) + 1) ** 0.8
                pools[(tier, online)] = (np.array(chosen, dtype=np.int64), weights / weights.sum())
        return pools

    def _draw(
        self,
        unit: Unit,
        days: Int64s,
        day_weight: Floats,
        n: int,
        rng: np.random.Generator,
        arrays: DueDateArrays,
        cut: int,
    ) -> dict[str, Any]:
        r = cal.rates(unit.quality)
        day = rng.choice(days, n, p=day_weight / day_weight.sum())
        office = rng.integers(0, WORKING_DAY_S, n)
        clock_s = np.where(office < 4.5 * 3600, 7 * 3600 + office, 13.5 * 3600 + office - 4.5 * 3600).astype(
            np.int64
        )
        received = (day - _EPOCH) * DAY_S - VN_OFFSET_S + clock_s
        u = rng.random(n)
        online = u < cal.ONLINE_SHARE
        postal = (u >= cal.ONLINE_SHARE) & (u < cal.ONLINE_SHARE + cal.POSTAL_SHARE)
        tier = unit.tier if unit.start < REFORM_DATE or unit.tier == "province" else "local"
        procedure = np.empty(n, dtype=np.int64)
        for is_online in (False, True):
            rows = online == is_online
            pool, weights = self._pools[(tier, is_online)]
            procedure[rows] = rng.choice(pool, int(rows.sum()), p=weights)
        amount = self._amount[procedure]
        unit_code = self._unit[procedure]
        submitted = np.where(online, received - rng.integers(0, 20 * 3600, n), received)
        due = arrays.due(received, amount, unit_code)
        source_due = np.where(
            rng.random(n) < cal.SOURCE_DUE_DIFFERS, arrays.add_working(due, np.full(n, WORKING_DAY_S)), due
        )

        kind = rng.random(n)
        withdrawn = kind < cal.WITHDRAWN_SHARE
        refused = (kind >= cal.WITHDRAWN_SHARE) & (kind < cal.WITHDRAWN_SHARE + cal.REFUSED_SHARE)
        stopped = (kind >= cal.WITHDRAWN_SHARE + cal.REFUSED_SHARE) & (
            kind < cal.WITHDRAWN_SHARE + cal.REFUSED_SHARE + cal.STOPPED_SHARE
        )
        processed = ~(withdrawn | refused | stopped)
        supplemented = processed & (rng.random(n) < cal.SUPPLEMENT_SHARE)
        requested = np.where(
            supplemented, arrays.add_working(received, rng.integers(3600, 2 * WORKING_DAY_S, n)), NOT_YET
        )
        provided = np.where(supplemented, requested + rng.integers(1, 6, n) * DAY_S, NOT_YET)
        waited = np.zeros(n, dtype=np.int64)
        if supplemented.any():
            waited[supplemented] = arrays.working_between(requested[supplemented], provided[supplemented])
        source_due = np.where(supplemented, arrays.add_working(source_due, waited), source_due)
        allowed = np.maximum(arrays.working_between(received, source_due) - waited, 0)
        timely = rng.random(n) < r.on_time
        early_part = (rng.uniform(0.25, 1.0, n) * allowed).astype(np.int64)
        finished = np.where(
            timely,
            arrays.add_working(received, early_part + waited),
            arrays.add_working(source_due, rng.integers(1, 11, n) * WORKING_DAY_S),
        )
        if supplemented.any():  # the work ends after the citizen has provided what was missing
            after = arrays.add_working(provided[supplemented], np.full(int(supplemented.sum()), 3600))
            finished[supplemented] = np.maximum(finished[supplemented], after)
        returned = arrays.add_working(finished, rng.integers(0, 2 * WORKING_DAY_S, n))
        ended_early = arrays.add_working(received, (rng.uniform(0.1, 0.9, n) * allowed).astype(np.int64))
        fee_bearing = self._fee_bearing[procedure]
        rated = processed & (rng.random(n) < cal.RATED_SHARE)
        return {
            "unit": unit,
            "procedure": procedure,
            "received": received,
            "submitted": submitted,
            "due": source_due,
            "online": online,
            "postal": postal,
            "withdrawn": withdrawn,
            "refused": refused,
            "stopped": stopped,
            "processed": processed,
            "requested": requested,
            "deadline": np.where(supplemented, requested + 15 * DAY_S, NOT_YET),
            "provided": provided,
            "finished": np.where(processed, finished, NOT_YET),
            "returned": np.where(processed, returned, NOT_YET),
            "ended": np.where(processed, NOT_YET, ended_early),
            "fee": np.where(fee_bearing, rng.choice(FEES, n), 0),
            "paid": np.where(
                fee_bearing & (rng.random(n) < r.paid_online), np.where(rng.random(n) < 0.6, 1, 2), 0
            ),
            "digitised": rng.random(n) < r.digitised,
            "reused": rng.random(n) < r.reused,
            "national_store": rng.random(n) < r.national_store,
            "vneid": online & (rng.random(n) < r.vneid),
            "electronic": processed & (rng.random(n) < r.electronic_result),
            "synced": rng.random(n) < r.synced,
            "rating": np.where(rated, np.where(rng.random(n) < r.satisfied, rng.integers(2, 4, n), 1), 0),
            "complained": rng.random(n) < r.complaint,
        }

    def _merge(self, parts: list[dict[str, Any]], cut: int) -> list[tuple[str, ...]]:
        """The drawn dossiers as text rows in order of receipt, cut at `cut`."""
        rows: list[tuple[str, ...]] = []
        for part in parts:
            rows.extend(_rows(part, cut, self._codes, self._levels))
        rows.sort(key=lambda row: row[9])
        return rows

    def write_csv(self, folder: Path, year: int, **options: Any) -> list[Path]:
        """One CSV file per month of receipt (`dossiers-YYYY-MM.csv`)."""
        folder.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        writers: dict[str, Any] = {}
        files = []
        try:
            for chunk in self.chunks(year, **options):
                for row in chunk.rows:
                    month = row[9][:7]
                    if month not in writers:
                        path = paths[month] = folder / f"dossiers-{month}.csv"
                        handle = path.open("w", encoding="utf-8", newline="")
                        files.append(handle)
                        writers[month] = csv.writer(handle)
                        writers[month].writerow(HEADER)
                    writers[month].writerow(row)
        finally:
            for handle in files:
                handle.close()
        return [paths[m] for m in sorted(paths)]


_EPOCH = date(1970, 1, 1).toordinal()


def _rows(
    p: dict[str, Any], cut: int, procedure_codes: npt.NDArray[np.str_], level_text: npt.NDArray[np.str_]
) -> list[tuple[str, ...]]:
    unit: Unit = p["unit"]
    received: Int64s = p["received"]
    keep = received <= cut
    order = np.argsort(received[keep], kind="stable")
    columns = {
        name: value[keep][order] if isinstance(value, np.ndarray) else value for name, value in p.items()
    }
    received = columns["received"]
    n = len(received)
    if not n:
        return []
    local_day = (received + VN_OFFSET_S) // DAY_S
    first_of_day = np.r_[True, local_day[1:] != local_day[:-1]]
    group_start = np.maximum.accumulate(np.where(first_of_day, np.arange(n), 0))
    sequence = np.arange(n) - group_start + 1
    if int(sequence.max()) > 9999:
        raise ValueError(
            f"agency {unit.agency}: more than 9,999 dossiers a day; lower `total` or add agencies"
        )

    def seen(moment: Int64s) -> Int64s:
        return np.where(moment <= cut, moment, NOT_YET)

    requested, provided = seen(columns["requested"]), seen(columns["provided"])
    finished, returned = seen(columns["finished"]), seen(columns["returned"])
    ended = seen(columns["ended"])
    processed = columns["processed"]
    status = np.full(n, 4, dtype=np.int64)  # processing
    status[(requested != NOT_YET) & (provided == NOT_YET)] = 5
    status[processed & (finished != NOT_YET)] = 9
    status[processed & (returned != NOT_YET)] = 10
    for flag, code in (("withdrawn", 7), ("refused", 3), ("stopped", 8)):
        status[columns[flag] & (ended != NOT_YET)] = code
    moments = np.vstack([received, requested, provided, finished, returned, ended])
    status_at = np.where(moments == NOT_YET, 0, moments).max(axis=0)
    rating = np.where(status == 10, columns["rating"], 0)

    day_text = np.datetime_as_string((local_day).astype("datetime64[D]"))
    area = unit.area
    if area is None:
        area_codes = np.where(received < _REFORM_S, PROVINCE_BEFORE, PROVINCE_AFTER)
    else:
        area_codes = np.full(n, area)
    channel = np.where(columns["online"], "2", np.where(columns["postal"], "3", "1"))
    level = np.where(columns["online"], level_text[columns["procedure"]], "")
    text = {
        "status_at": _iso(status_at),
        "submitted_at": _iso(columns["submitted"]),
        "received_at": _iso(received),
        "due_at": _iso(columns["due"]),
        "finished_at": _iso(np.where(processed, finished, NOT_YET)),
        "returned_at": _iso(np.where(status == 10, returned, NOT_YET)),
        "refused_at": _iso(np.where(columns["refused"], ended, NOT_YET)),
        "cancelled_at": _iso(np.where(columns["withdrawn"], ended, NOT_YET)),
        "stopped_at": _iso(np.where(columns["stopped"], ended, NOT_YET)),
        "supplement_requested_at": _iso(requested),
        "supplement_deadline": _iso(np.where(requested != NOT_YET, columns["deadline"], NOT_YET)),
        "supplement_provided_at": _iso(provided),
    }
    return list(
        zip(
            [
                f"{unit.agency}-{d[2:4]}{d[5:7]}{d[8:10]}-{s:04d}"
                for d, s in zip(day_text.tolist(), sequence.tolist(), strict=True)
            ],
            procedure_codes[columns["procedure"]].tolist(),
            [unit.agency] * n,
            area_codes.tolist(),
            channel.tolist(),
            level.tolist(),
            status.astype(str).tolist(),
            text["status_at"],
            text["submitted_at"],
            text["received_at"],
            text["due_at"],
            text["finished_at"],
            text["returned_at"],
            text["refused_at"],
            text["cancelled_at"],
            text["stopped_at"],
            text["supplement_requested_at"],
            text["supplement_deadline"],
            text["supplement_provided_at"],
            columns["fee"].astype(str).tolist(),
            np.where(columns["paid"] > 0, columns["paid"].astype(str), "").tolist(),
            _bits(columns["digitised"]),
            _bits(columns["reused"]),
            _bits(columns["national_store"]),
            _bits(columns["vneid"]),
            _bits(columns["electronic"] & (status >= 9)),
            _bits(columns["synced"]),
            np.where(rating > 0, rating.astype(str), "").tolist(),
            _bits(columns["complained"]),
            strict=True,
        )
    )


_REFORM_S = int(datetime(2025, 7, 1, tzinfo=VN_TZ).timestamp())


def _iso(moments: Int64s) -> list[str]:
    """ISO 8601 with the +07:00 offset; '' for what has not happened."""
    missing = moments == NOT_YET
    local = np.where(missing, 0, moments + VN_OFFSET_S).astype("datetime64[s]")
    text = np.char.add(np.datetime_as_string(local, unit="s"), "+07:00")
    return np.where(missing, "", text).tolist()  # type: ignore[no-any-return]


def _bits(values: npt.NDArray[np.bool_]) -> list[str]:
    return np.where(values, "1", "0").tolist()  # type: ignore[no-any-return]


def _procedures(rng: np.random.Generator) -> list[Procedure]:
    """1,942 simulated procedures with the published split by tier, online level and fee."""
    tiers = [tier for tier, count in cal.PROCEDURES.items() for _ in range(count)]
    total = len(tiers)
    order = rng.permutation(total)
    full = set(order[: cal.FULL_ONLINE_PROCEDURES].tolist())
    partial = set(order[cal.FULL_ONLINE_PROCEDURES : cal.ONLINE_PROCEDURES].tolist())
    fee = set(rng.permutation(total)[: cal.FEE_PROCEDURES].tolist())
    durations = [
        (1, "working_days"),
        (3, "working_days"),
        (5, "working_days"),
        (7, "working_days"),
        (10, "working_days"),
        (15, "working_days"),
        (20, "working_days"),
        (30, "working_days"),
        (4, "working_hours"),
        (8, "working_hours"),
        (15, "calendar_days"),
        (30, "calendar_days"),
    ]
    weights = np.array([3, 5, 8, 5, 6, 4, 3, 2, 2, 2, 1, 1], dtype=float)
    picks = rng.choice(len(durations), total, p=weights / weights.sum())
    published = rng.random((total, 3)) < cal.PUBLISHED_ON_TIME
    procedures = []
    for i, tier in enumerate(tiers):
        field = FIELDS[int(rng.integers(len(FIELDS)))]
        amount, unit = durations[int(picks[i])]
        level = OnlineLevel.FULL if i in full else OnlineLevel.PARTIAL if i in partial else OnlineLevel.NONE
        procedures.append(
            Procedure(
                code=f"SIM.{i + 1:06d}",
                name=f"[Mô phỏng] {field} – thủ tục {i + 1:04d}",
                field=field,
                level=level,
                duration=amount,
                duration_unit=unit,
                agency_level=tier,
                fee_bearing=i in fee,
                online_payment=i in fee,
                on_national_portal=level.is_online,
                published_on_time=bool(published[i, 0]),
                updated_on_time=bool(published[i, 1]),
                publication_complete=bool(published[i, 2]),
            )
        )
    return procedures


def _fee_share(procedures: list[Procedure], province: bool) -> float:
    chosen = [p for p in procedures if (p.agency_level == "province") == province]
    weights = 1 / np.arange(1, len(chosen) + 1) ** 0.8
    return float(sum(w for w, p in zip(weights, chosen, strict=True) if p.fee_bearing) / weights.sum())


def _agencies(area_book: AreaBook) -> tuple[list[Agency], dict[str, list[str]], dict[str, tuple[str, float]]]:
    """The simulated agencies, the legacy districts with their wards, and the 2025 wards with the legacy
    district they mostly come from and their share of the local dossiers."""
    agencies = [
        Agency(
            code=f"SIM.S{n:02d}",
            name=f"[Mô phỏng] Sở {n:02d} tỉnh Bình Dương",
            area_code=PROVINCE_BEFORE,
            level="province",
        )
        for n in range(1, DEPARTMENTS + 1)
    ]
    legacy: dict[str, list[str]] = {}
    for code in cal.INDEX_2023_DISTRICTS:
        wards = sorted(a.code for a in area_book.areas.values() if a.parent == code and a.level == "ward")
        legacy[code] = wards
        official = code.partition(":")[2]
        agencies.append(
            Agency(
                code=f"SIM.H{official}",
                name=f"[Mô phỏng] UBND {area_book.name(code)}",
                area_code=code,
                level="district",
                valid_to=REFORM_DATE,
            )
        )
        for ward in wards:
            agencies.append(
                Agency(
                    code=f"SIM.X{ward.partition(':')[2]}",
                    name=f"[Mô phỏng] UBND {area_book.name(ward)}",
                    area_code=ward,
                    level="commune",
                    valid_to=REFORM_DATE,
                )
            )
    weights = cal.district_weights()
    share_of_ward = {ward: weights[d] / len(wards) for d, wards in legacy.items() for ward in wards}
    new: dict[str, tuple[str, float]] = {}
    for district, members in area_book.localities("legacy").items():
        for member in members:
            if member.startswith("2025:"):
                olds = [
                    o for o in area_book.predecessors.get(member, []) if area_book.successors.get(o) == member
                ]
                share = sum(share_of_ward.get(o, 0.0) for o in olds)
                if share > 0:
                    new[member] = (district, share)
    total = sum(share for _, share in new.values())
    new = {ward: (district, share / total) for ward, (district, share) in new.items()}
    for ward in sorted(new):
        agencies.append(
            Agency(
                code=f"SIM.N{ward.partition(':')[2]}",
                name=f"[Mô phỏng] UBND {area_book.name(ward)}",
                area_code=ward,
                level="commune",
                valid_from=REFORM_DATE,
            )
        )
    return agencies, legacy, new
