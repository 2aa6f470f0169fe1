"""One in-memory SQLite store loaded from the registry packages, shared by this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, create_engine, select

from cityops.core.areas import AreaIndex, load_reference, successor_of
from cityops.core.schema import areas, metadata

NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"


def fresh_engine() -> Engine:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return engine


@pytest.fixture(scope="session")
def areas_engine() -> Iterator[Engine]:
    engine = fresh_engine()
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def inserted(areas_engine: Engine) -> int:
    with areas_engine.begin() as connection:
        return load_reference(connection, NODE_MODULES)


@pytest.fixture(scope="session")
def rows(areas_engine: Engine, inserted: int) -> dict[str, dict[str, Any]]:
    """Every stored area, by code."""
    with areas_engine.connect() as connection:
        return {row.code: dict(row._mapping) for row in connection.execute(select(areas))}


@pytest.fixture(scope="session")
def by_level(rows: dict[str, dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(scheme, level) -> sorted codes."""
    found: dict[tuple[str, str], list[str]] = {}
    for code, row in sorted(rows.items()):
        found.setdefault((row["scheme"], row["level"]), []).append(code)
    return found


@pytest.fixture(scope="session")
def shapes(rows: dict[str, dict[str, Any]]) -> dict[str, BaseGeometry]:
    return {code: shape(row["geometry"]) for code, row in rows.items()}


@pytest.fixture
def conn(areas_engine: Engine, inserted: int) -> Iterator[Connection]:
    with areas_engine.connect() as connection:
        yield connection


@pytest.fixture(scope="session")
def index(areas_engine: Engine, inserted: int) -> AreaIndex:
    with areas_engine.connect() as connection:
        return AreaIndex.from_connection(connection)


@pytest.fixture(scope="session")
def defaults(areas_engine: Engine, inserted: int) -> dict[str, str]:
    """Legacy code -> its default 2025 code, read through `successor_of`."""
    with areas_engine.connect() as connection:
        codes = connection.execute(select(areas.c.code).where(areas.c.scheme == "legacy")).scalars().all()
        found = {code: successor_of(connection, code) for code in codes}
    return {old: new for old, new in found.items() if new is not None}
