"""The kernel hands the rule engine every series of a batch, not only the live feed's sample of 50."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from cityops.core.events import Event, ObservationsRecorded
from cityops.core.ingest import validate_points
from cityops.core.kernel import Kernel
from cityops.core.schema import entities


def test_recorded_event_carries_the_newest_point_of_every_series(kernel: Kernel) -> None:
    with kernel.engine.connect() as conn:
        rows = conn.execute(select(entities.c.urn, entities.c.type)).all()
    points = [
        {"entity": urn, "metric": spec.name, "time": 1_790_000_000_000 + step, "value": float(step)}
        for urn, entity_type in rows
        for spec in kernel.registry.types[entity_type].metrics
        for step in (0, 1000)
    ]
    series = len(points) // 2
    assert series > ObservationsRecorded.SAMPLE_LIMIT
    batch = validate_points(points, kernel.registry, kernel.now_ms(), 10_000)
    received: list[Event] = []

    async def collect(event: Event) -> None:
        received.append(event)

    kernel.bus.subscribe(ObservationsRecorded.subject, collect)
    asyncio.run(kernel.record(batch, source="test"))
    (event,) = received
    assert isinstance(event, ObservationsRecorded)
    assert len(event.sample) == ObservationsRecorded.SAMPLE_LIMIT
    assert len(event.newest) == series
    assert {(ts, value) for _, _, ts, value in event.newest} == {(1_790_000_001_000, 1000.0)}
    ids = {(ref_id, metric_id) for ref_id, metric_id, _, _ in event.newest}
    assert len(ids) == series
