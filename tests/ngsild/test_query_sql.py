"""`q` narrowed in SQL keeps every entity the exact evaluation matches (a property test on a real store,
SQLite and PostgreSQL), drops what cannot match, and narrows metrics through `latest`."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from tests.ngsild.test_query_language import NAMES, scalars, text, trees

from cityops.api.ngsild.query_language import matches, parse
from cityops.api.ngsild.query_sql import narrowing
from cityops.core.entities import EntityWrite
from cityops.core.kernel import Kernel
from cityops.core.schema import entities

SERIAL = count()
stored_values = st.one_of(
    scalars, st.lists(st.integers(-5, 5), max_size=3), st.floats(-6, 6, allow_nan=False)
)
stored_entities = st.lists(
    st.dictionaries(st.sampled_from(NAMES), st.tuples(stored_values, st.booleans())), min_size=1, max_size=6
)


def as_stored(attributes: dict[str, tuple[Any, bool]]) -> dict[str, Any]:
    """Half the attributes plain (as the domains write), half normalized."""
    return {
        name: {"type": "Property", "value": value} if normalized else value
        for name, (value, normalized) in attributes.items()
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trees, stored_entities)
def test_sql_keeps_every_match(
    kernel: Kernel, tree: Any, population: list[dict[str, tuple[Any, bool]]]
) -> None:
    writes = [
        EntityWrite(f"urn:ngsi-ld:AccessPoint:qsql-{next(SERIAL)}", "AP", 106.6, 10.9, as_stored(attributes))
        for attributes in population
    ]
    kernel.registry.upsert_many(writes)
    node = parse(text(tree))
    urns = [w.urn for w in writes]
    with kernel.engine.connect() as conn:
        kept = set(
            conn.execute(
                select(entities.c.urn).where(entities.c.urn.in_(urns), narrowing(kernel, node))
            ).scalars()
        )
    for write in writes:
        normalized = {
            name: value if isinstance(value, dict) else {"type": "Property", "value": value}
            for name, value in write.attributes.items()
        }
        if matches(node, normalized):
            assert write.urn in kept, (text(tree), write.attributes)


def test_metrics_are_narrowed_on_latest(client: Any, kernel: Kernel) -> None:
    from tests.ngsild.test_entities import BASE, access_point, now_iso

    for n, users in enumerate((3, 30, 300)):
        value = {"type": "Property", "value": users, "observedAt": now_iso(-10)}
        assert (
            client.post(f"{BASE}/entities", json=access_point(f"m-{n}", activeUsers=value)).status_code == 201
        )
    node = parse("activeUsers>10;activeUsers<100")
    with kernel.engine.connect() as conn:
        kept = set(
            conn.execute(
                select(entities.c.urn).where(entities.c.urn.like("%:m-%"), narrowing(kernel, node))
            ).scalars()
        )
    assert kept == {"urn:ngsi-ld:AccessPoint:m-1"}
    found = client.get(f"{BASE}/entities", params={"q": "activeUsers>10;activeUsers<100", "idPattern": ":m-"})
    assert [e["id"] for e in found.json()] == ["urn:ngsi-ld:AccessPoint:m-1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("floor==2", {"plain-2", "normalized-2", "array"}),
        ("floor<2.5", {"plain-2", "normalized-2", "array"}),
        ('floor>"1"', {"text-2", "array"}),
        ("floor==1..2", {"plain-2", "normalized-2", "array"}),
        ("floor", {"plain-2", "normalized-2", "plain-3", "text-2", "array"}),
    ],
)
def test_plain_attributes_are_narrowed(kernel: Kernel, query: str, expected: set[str]) -> None:
    """On both databases the SQL condition itself drops what cannot match: other values, other kinds
    (a string is not a number), a missing attribute; an array is left to the process."""
    stored: dict[str, dict[str, Any]] = {
        "plain-2": {"floor": 2},
        "normalized-2": {"floor": {"type": "Property", "value": 2}},
        "plain-3": {"floor": 3},
        "text-2": {"floor": "2"},
        "array": {"floor": [1, 2]},
        "none": {"other": 2},
    }
    tag = next(SERIAL)
    kernel.registry.upsert_many(
        [
            EntityWrite(f"urn:ngsi-ld:AccessPoint:narrow-{tag}-{key}", "AP", 106.6, 10.9, attributes)
            for key, attributes in stored.items()
        ]
    )
    with kernel.engine.connect() as conn:
        kept = set(
            conn.execute(
                select(entities.c.urn).where(
                    entities.c.urn.like(f"%:narrow-{tag}-%"), narrowing(kernel, parse(query))
                )
            ).scalars()
        )
    assert {urn.split(f"narrow-{tag}-")[1] for urn in kept} == expected
