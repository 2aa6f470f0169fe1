"""The units and the old→new mapping, as taken from PyPI `vietnamadminunits`."""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

from sqlalchemy import Connection, select
from vietnamadminunits import convert_address

from cityops.core.areas import successor_of
from cityops.core.schema import area_mappings

Rows = dict[str, dict[str, Any]]
ByLevel = dict[tuple[str, str], list[str]]


def test_legacy_binh_duong_and_the_2025_units_it_became(rows: Rows, by_level: ByLevel, inserted: int) -> None:
    counts = {key: len(codes) for key, codes in by_level.items()}
    assert counts[("legacy", "province")] == 1
    assert counts[("legacy", "district")] == 9
    assert counts[("legacy", "ward")] == 91
    assert counts[("2025", "province")] == 1
    # The 2025 reform rearranged Bình Dương's 91 wards and communes into 36 units of Hồ Chí Minh City.
    assert counts[("2025", "ward")] == 36
    assert ("2025", "district") not in counts
    assert inserted == len(rows)


def test_names_keep_their_diacritics(rows: Rows) -> None:
    names = {row["name"] for row in rows.values()}
    assert {"Tỉnh Bình Dương", "Huyện Dầu Tiếng", "Phường Hiệp Thành", "Thành phố Hồ Chí Minh"} <= names
    assert rows["legacy:718"]["name"] == "Thành phố Thủ Dầu Một"
    assert all(unicodedata.normalize("NFC", name) == name for name in names)


def test_the_tree_and_the_validity_dates(rows: Rows) -> None:
    parent_level = {
        ("legacy", "district"): "province",
        ("legacy", "ward"): "district",
        ("2025", "ward"): "province",
    }
    for code, row in rows.items():
        assert code == f"{row['scheme']}:{row['official_code']}"
        if row["level"] == "province":
            assert row["parent_code"] is None
        else:
            parent = rows[row["parent_code"]]
            assert (parent["scheme"], parent["level"]) == (
                row["scheme"],
                parent_level[row["scheme"], row["level"]],
            )
        expected = (None, "2025-06-30") if row["scheme"] == "legacy" else ("2025-07-01", None)
        assert (row["valid_from"], row["valid_to"]) == expected


def test_every_legacy_ward_has_exactly_one_default_2025_unit(by_level: ByLevel, conn: Connection) -> None:
    mappings = conn.execute(select(area_mappings)).all()
    defaults = Counter(m.old_code for m in mappings if m.is_default)
    assert all(defaults[ward] == 1 for ward in by_level["legacy", "ward"])
    legacy_wards = set(by_level["legacy", "ward"])
    assert {m.old_code for m in mappings} == legacy_wards | {"legacy:74"}
    assert {m.new_code for m in mappings if m.old_code in legacy_wards} == set(by_level["2025", "ward"])
    assert max(Counter(m.old_code for m in mappings).values()) > 1  # some wards were divided
    assert successor_of(conn, "legacy:74") == "2025:79"
    assert successor_of(conn, "legacy:718") is None  # districts were abolished
    assert successor_of(conn, "legacy:00000") is None


def test_default_successors_agree_with_the_package_converter(
    rows: Rows, by_level: ByLevel, conn: Connection
) -> None:
    """`convert_address` parses address text: a separate path through the package's data."""
    for code in by_level["legacy", "ward"]:
        ward = rows[code]
        district = rows[ward["parent_code"]]
        province = rows[district["parent_code"]]
        converted = convert_address(f"{ward['name']}, {district['name']}, {province['name']}")
        assert successor_of(conn, code) == f"2025:{converted.ward_code}"
        assert converted.province_code == rows["2025:79"]["official_code"]
