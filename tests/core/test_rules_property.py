"""Threshold and duration rules against a reference written from their definition, on random series:
after every batch the alert is open exactly when the definition says so, and each rise raises one alert."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.core.bus import InProcessBus
from cityops.core.domain import EntityType, MetricSpec
from cityops.core.entities import EntityRegistry
from cityops.core.events import AlertRaised, Event, ObservationsRecorded
from cityops.core.rules.engine import RuleCatalogue, RuleEngine
from cityops.core.schema import metadata
from cityops.core.store import open_engine

BASE = 1_790_000_000_000
GAUGE = EntityType("Gauge", {"vi": "Đồng hồ"}, "#000000", (MetricSpec("v", "", {"vi": "v"}),))
OPS = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}


def reference(op: str, limit: float, minutes: float | None, points: list[tuple[int, float]]) -> list[bool]:
    """Whether the alert is open after each point, straight from the rule's definition."""
    result = []
    run_start: int | None = None
    for ts, value in points:
        holds = OPS[op](value, limit)
        run_start = (ts if run_start is None else run_start) if holds else None
        if minutes is None:
            result.append(holds)
        else:
            result.append(run_start is not None and ts - run_start >= minutes * 60_000)
    return result


async def replay(
    folder: Path, definition: dict[str, Any], points: list[tuple[int, float]]
) -> tuple[list[bool], int]:
    engine = open_engine(f"sqlite:///{folder / 'p.sqlite'}")
    metadata.create_all(engine)
    registry = EntityRegistry(engine)
    registry.register_types([GAUGE])
    ref, _ = registry.upsert("urn:ngsi-ld:Gauge:g", "g")
    metric_id = registry.metric_id("Gauge", "v")
    assert metric_id is not None
    bus = InProcessBus()
    raised: list[Event] = []

    async def collect(event: Event) -> None:
        if isinstance(event, AlertRaised):
            raised.append(event)

    bus.subscribe("alerts", collect)
    rules = RuleEngine(engine, bus, RuleCatalogue({"Gauge": GAUGE}, {}, {}))
    rules.attach()
    await rules.create(definition)
    states = []
    for number, (ts, value) in enumerate(points):
        await bus.publish(ObservationsRecorded(number, ts, 1, (), ((ref.id, metric_id, ts, value),)))
        states.append(rules.open_alerts_of(definition["id"]) == 1)
    engine.dispose()
    return states, len(raised)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(list(OPS)),
    st.integers(-3, 3).map(float),
    st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.5])),
    st.lists(st.tuples(st.integers(1, 90), st.integers(-5, 5).map(float)), min_size=1, max_size=30),
)
def test_alert_state_follows_the_definition(
    op: str, limit: float, minutes: float | None, steps: list[tuple[int, float]]
) -> None:
    points = []
    ts = BASE
    for gap_seconds, value in steps:
        ts += gap_seconds * 1000
        points.append((ts, value))
    definition: dict[str, Any] = {
        "id": "p",
        "kind": "threshold" if minutes is None else "duration",
        "title": "p",
        "category": "environment",
        "entity_type": "Gauge",
        "metric": "v",
        "op": op,
        "value": limit,
    }
    if minutes is not None:
        definition["minutes"] = minutes
    expected = reference(op, limit, minutes, points)
    with tempfile.TemporaryDirectory() as folder:
        states, raised = asyncio.run(replay(Path(folder), definition, points))
    assert states == expected
    assert raised == sum(
        1 for before, now in zip([False, *expected], expected, strict=False) if now and not before
    )
