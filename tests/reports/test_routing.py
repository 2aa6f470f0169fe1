"""The routing table: category × area → agency, the most specific route first, else the default."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cityops.core.rules.scope import AreaTree
from cityops.reports.routing import RoutingTable

TREE = AreaTree(
    {
        "legacy:74": None,
        "legacy:718": "legacy:74",
        "legacy:25747": "legacy:718",
        "2025:79": None,
        "2025:1": "2025:79",
    }
)


def test_shipped_table_routes_by_category_then_area() -> None:
    table = RoutingTable.load()
    ward = ("2025:1", "legacy:25747")
    assert table.agency_for("traffic", ward, TREE) == "cong-an-tdm"  # category + nearest area
    assert table.agency_for("waste", ward, TREE) == "so-tai-nguyen-moi-truong"  # category beats "*"
    assert table.agency_for("other", ward, TREE) == "ubnd-tdm"  # "*" in the district
    assert table.agency_for("other", (None, None), TREE) == table.default_agency


def test_unknown_category_in_a_route_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_text(
        'default_agency = "x"\n[[categories]]\ncode = "road"\nvi = "Đường"\nen = "Road"\nja = "道路"\n'
        '[[routes]]\ncategory = "roads"\narea = "legacy:74"\nagency = "y"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="unknown categories"):
        RoutingTable.load(path)
