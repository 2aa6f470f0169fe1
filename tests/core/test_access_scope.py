"""An agency officer's scope: its agency's objects and those in its areas (with every area below them);
the SQL filter keeps exactly the rows the Python check allows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, delete, insert, select

from cityops.core.access.scope import Scope
from cityops.core.rules.scope import AreaTree

TREE = AreaTree({"P": None, "D1": "P", "D2": "P", "W1": "D1", "W2": "D1", "W3": "D2", "L": None, "LW": "L"})
CODES = [*TREE.parents, "elsewhere"]
AGENCIES = ["police", "water", "fire"]
ROWS = Table(
    "objects",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("agency", String, nullable=True),
    Column("area", String, nullable=True),
    Column("legacy_area", String, nullable=True),
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    ROWS.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_an_area_counts_with_the_areas_below_it() -> None:
    scope = Scope.of(None, ["D1"], TREE)
    assert scope.areas == {"D1", "W1", "W2"}
    assert scope.allows(None, "W2") and not scope.allows(None, "P") and not scope.allows(None, "W3")
    assert Scope.of("police", [], TREE).allows("police") and not Scope.of("police", [], TREE).allows("water")
    assert not Scope.of(None, [], TREE).allows(None, "W1")


@given(
    agency=st.none() | st.sampled_from(AGENCIES),
    areas=st.lists(st.sampled_from(CODES[:-1]), max_size=3),
    rows=st.lists(
        st.tuples(
            st.none() | st.sampled_from(AGENCIES),
            st.none() | st.sampled_from(CODES),
            st.none() | st.sampled_from(CODES),
        ),
        max_size=25,
    ),
)
def test_the_sql_filter_keeps_exactly_what_allows_accepts(
    engine: Engine,
    agency: str | None,
    areas: list[str],
    rows: list[tuple[str | None, str | None, str | None]],
) -> None:
    scope = Scope.of(agency, areas, TREE)
    with engine.begin() as conn:
        conn.execute(delete(ROWS))
        for index, (row_agency, area, legacy) in enumerate(rows):
            conn.execute(insert(ROWS).values(id=index, agency=row_agency, area=area, legacy_area=legacy))
        kept = set(
            conn.execute(
                select(ROWS.c.id).where(scope.where(ROWS.c.agency, ROWS.c.area, ROWS.c.legacy_area))
            ).scalars()
        )
    assert kept == {index for index, row in enumerate(rows) if scope.allows(*row)}
