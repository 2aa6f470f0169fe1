"""A batch delivered again by JetStream: stored once, announced once, and announced if the recorder
that stored it died before announcing it."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from cityops.backends.jetstream import BusSettings, JetStreamBus, new_batch_id
from cityops.core.events import Event, ObservationsRecorded
from cityops.core.ingest import validate_points
from cityops.core.kernel import Kernel
from cityops.core.schema import batches, observations

from ..conftest import NODE_MODULES
from .conftest import NatsNode
from .test_ingest_queue import points


def test_a_batch_stored_but_never_announced_is_announced_once(
    kernel: Kernel, database_url: str, nats_node: NatsNode
) -> None:
    bus = JetStreamBus(BusSettings([nats_node.url]))
    recorder = Kernel.open(database_url, node_modules=NODE_MODULES, bus=bus, evaluates=False)
    batch = validate_points(points(1_790_000_000_000, 40), recorder.registry, recorder.now_ms(), 100)
    batch_id = new_batch_id()
    seen: list[Event] = []

    async def scenario() -> None:
        await bus.connect()

        async def collect(event: Event) -> None:
            seen.append(event)

        bus.subscribe(ObservationsRecorded.subject, collect)
        # The first recorder committed the batch and died before announcing it.
        await asyncio.to_thread(recorder.observations.write, batch, "test", batch_id)
        for _ in range(3):  # delivered again, three times
            stored = await recorder.record(batch, "test", batch_id)
            assert stored.accepted == 0 and stored.duplicates == 40
        await asyncio.sleep(1.0)
        await bus.close()

    asyncio.run(scenario())
    [event] = seen
    assert isinstance(event, ObservationsRecorded) and event.batch_id == batch_id
    assert [point[2:] for point in event.newest] == [(1_790_000_000_039, 39.0)]
    with recorder.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 40
        assert conn.execute(select(func.count()).select_from(batches)).scalar_one() == 1
    recorder.engine.dispose()
