from __future__ import annotations

import asyncio

from cityops.core.bus import InProcessBus, Mailbox
from cityops.core.events import EntityUpserted, Event, ObservationsRecorded


def test_subscribers_get_their_subjects_and_wildcard_gets_all() -> None:
    async def scenario() -> tuple[list[Event], list[Event]]:
        bus = InProcessBus()
        observations: list[Event] = []
        everything: list[Event] = []

        async def on_observation(event: Event) -> None:
            observations.append(event)

        async def on_any(event: Event) -> None:
            everything.append(event)

        bus.subscribe("observations", on_observation)
        unsubscribe = bus.subscribe("*", on_any)
        await bus.publish(ObservationsRecorded(1, 0, 3))
        await bus.publish(EntityUpserted("urn:ngsi-ld:Camera:x", "Camera", "x", None, None, None))
        unsubscribe()
        await bus.publish(ObservationsRecorded(2, 0, 1))
        return observations, everything

    observations, everything = asyncio.run(scenario())
    assert [e.batch_id for e in observations] == [1, 2]  # type: ignore[attr-defined]
    assert [e.subject for e in everything] == ["observations", "entities"]


def test_failing_subscriber_does_not_stop_delivery() -> None:
    async def scenario() -> int:
        bus = InProcessBus()
        received = []

        async def broken(event: Event) -> None:
            raise RuntimeError("boom")

        async def healthy(event: Event) -> None:
            received.append(event)

        bus.subscribe("observations", broken)
        bus.subscribe("observations", healthy)
        await bus.publish(ObservationsRecorded(1, 0, 1))
        return len(received)

    assert asyncio.run(scenario()) == 1


def test_mailbox_drops_oldest_when_full() -> None:
    async def scenario() -> tuple[list[int], int]:
        bus = InProcessBus()
        mailbox = Mailbox(bus, ("observations",), maxsize=3)
        for batch_id in range(5):
            await bus.publish(ObservationsRecorded(batch_id, 0, 1))
        kept = [mailbox.queue.get_nowait().batch_id for _ in range(3)]  # type: ignore[attr-defined]
        return kept, mailbox.dropped

    kept, dropped = asyncio.run(scenario())
    assert kept == [2, 3, 4]
    assert dropped == 2
