"""The simulated province: its catalogue has the published counts, its expected indices are the published
2023 scores, a generated year scores close to them, and what it generates is valid input."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cityops.services.catalogue import Catalogue
from cityops.services.demo import calibration as cal
from cityops.services.demo.generator import HEADER, DemoProvince
from cityops.services.importing.readers import Chunk
from cityops.services.index.decision766 import IndexConfig, score
from cityops.services.index.scoring import Reader, Scope
from cityops.services.runtime import ServicesRuntime
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import Period

from .conftest import NOW


def test_the_catalogue_has_the_published_counts(demo_province: DemoProvince) -> None:
    procedures = demo_province.procedures
    assert len(procedures) == 1_942
    assert {
        level: sum(p.agency_level == level for p in procedures) for level in cal.PROCEDURES
    } == cal.PROCEDURES
    stats = demo_province.catalogue.stats()
    assert (stats.online, stats.full, stats.fee_bearing) == (1_159, 892, 680)
    assert all(p.name.startswith("[Mô phỏng]") and p.code.startswith("SIM.") for p in procedures)


def test_agencies_follow_the_reform(demo_province: DemoProvince) -> None:
    before = demo_province.catalogue.agencies(date(2025, 6, 30))
    after = demo_province.catalogue.agencies(date(2025, 7, 1))
    assert {a.level for a in before} == {"province", "district", "commune"}
    assert {a.level for a in after} == {"province", "commune"}
    assert sum(a.level == "district" for a in before) == 9


def test_the_expected_indices_are_the_published_scores(demo_province: DemoProvince) -> None:
    config = IndexConfig.load()
    local = Catalogue([p for p in demo_province.procedures if p.agency_level != "province"]).stats()
    quality = demo_province.calibration.district_quality
    for district, published in cal.INDEX_2023_DISTRICTS.items():
        counts = cal.expected_aggregates(quality[district], 100_000, 0.3)
        expected = score(config, date(2023, 12, 31), dossiers=counts, catalogue=local).index
        assert expected == pytest.approx(published, abs=0.6), district  # fee share differs from the solve's
    assert sorted(quality, key=quality.__getitem__)[0] == "legacy:725"  # Thuận An, the lowest score


def test_rates_rise_with_quality() -> None:
    weak, strong = cal.rates(0.2), cal.rates(0.8)
    assert all(
        getattr(strong, name) >= getattr(weak, name)
        for name in weak.__dataclass_fields__
        if name != "complaint"
    )
    assert strong.complaint < weak.complaint
    with pytest.raises(ValueError, match="quality"):
        cal.rates(1.5)


def test_a_generated_year_scores_close_to_the_published_figures(
    runtime: ServicesRuntime, demo_province: DemoProvince
) -> None:
    runtime.save_catalogue(demo_province.procedures, demo_province.agencies)
    chunks = list(demo_province.chunks(2023, total=24_000, chunk_rows=5_000))
    report = runtime.import_chunks(chunks, "simulated 2023", "csv")
    assert report.inserted == sum(len(c.rows) for c in chunks)
    with runtime.reading() as accumulator:
        reader = Reader(accumulator, runtime.catalogue, runtime.area_book, NOW)
        year = Period.parse("2023")
        province = reader.summary(Scope("province"), year)
        ranking = {row["code"]: row["index"] for row in reader.ranking("locality", year)}
    assert province["index"] == pytest.approx(cal.INDEX_2023_PROVINCE, abs=1.5)
    online = province["counts"]["online"] / province["counts"]["received"]
    assert online == pytest.approx(cal.ONLINE_SHARE, abs=0.02)
    for district, published in cal.INDEX_2023_DISTRICTS.items():
        assert ranking[district] == pytest.approx(published, abs=3.0), district
    assert max(ranking, key=ranking.__getitem__) in ("legacy:718", "legacy:724")  # the two best published
    assert min(ranking, key=ranking.__getitem__) == "legacy:725"


def test_the_cut_leaves_later_events_undone(demo_province: DemoProvince) -> None:
    until = datetime(2025, 9, 15, 10, 0, tzinfo=VN_TZ)
    rows = [row for chunk in demo_province.chunks(2025, total=3_000, until=until) for row in chunk.rows]
    position = {name: i for i, name in enumerate(HEADER)}
    limit = until.isoformat()
    for row in rows:
        for name in ("received_at", "finished_at", "returned_at", "status_at", "supplement_provided_at"):
            assert row[position[name]] <= limit
    statuses = {row[position["status"]] for row in rows}
    assert {"4", "10"} <= statuses  # still processing, and done


def test_the_reform_year_uses_the_areas_and_agencies_of_each_half(demo_2025: list[Chunk]) -> None:
    position = {name: i for i, name in enumerate(HEADER)}
    rows = [row for chunk in demo_2025 for row in chunk.rows]
    after = [row for row in rows if row[position["received_at"]] >= "2025-07-01"]
    before = [row for row in rows if row[position["received_at"]] < "2025-07-01"]
    assert before and after
    assert all(not row[position["area_code"]].startswith("2025:") for row in before)
    assert all(not row[position["area_code"]].startswith("legacy:") for row in after)
    assert not any(row[position["agency_code"]].startswith("SIM.H") for row in after)
