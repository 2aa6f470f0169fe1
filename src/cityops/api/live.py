"""The live feed: Server-Sent Events from the bus to the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from cityops.api.map import iso
from cityops.api.state import kernel_of
from cityops.core.bus import Mailbox
from cityops.core.events import EntityUpserted, Event, ObservationsRecorded

router = APIRouter(tags=["live"])

KEEPALIVE_SECONDS = 15.0


def to_wire(event: Event) -> dict[str, Any]:
    if isinstance(event, ObservationsRecorded):
        return {
            "batch_id": event.batch_id,
            "received_ms": event.received_ms,
            "points": event.points,
            "series": [
                {
                    "entity": p.entity,
                    "type": p.type,
                    "name": p.name,
                    "metric": p.metric,
                    "ts": iso(p.ts_ms),
                    "value": p.value,
                }
                for p in event.sample
            ],
        }
    return event.to_dict()


@router.get("/api/live", response_class=EventSourceResponse, summary="Live events (Server-Sent Events)")
async def live(request: Request) -> AsyncIterator[ServerSentEvent]:
    kernel = kernel_of(request)
    mailbox = Mailbox(kernel.bus, (ObservationsRecorded.subject, EntityUpserted.subject))
    try:
        yield ServerSentEvent(event="hello", data={"simulated": kernel.simulated})
        while True:
            try:
                event = await asyncio.wait_for(mailbox.queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ServerSentEvent(comment="keep-alive")
                continue
            name = "observations" if isinstance(event, ObservationsRecorded) else "entity"
            yield ServerSentEvent(event=name, data=to_wire(event))
    finally:
        mailbox.close()
