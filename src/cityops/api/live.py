"""The live feed: Server-Sent Events from the bus to the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from cityops.api.auth import Reader, still_signed_in
from cityops.api.map import iso
from cityops.api.scoping import event_visible
from cityops.api.state import kernel_of
from cityops.core.bus import Mailbox
from cityops.core.events import (
    AlertCleared,
    AlertRaised,
    EntityUpserted,
    Event,
    IncidentChanged,
    ObservationsRecorded,
)

router = APIRouter(tags=["live"])

KEEPALIVE_SECONDS = 15.0
# The feed ends within this long of its token being revoked or its session ending (logout, idleness,
# a disabled account, a changed password).
RECHECK_SECONDS = 3.0
SUBJECTS = (
    ObservationsRecorded.subject,
    EntityUpserted.subject,
    AlertRaised.subject,
    IncidentChanged.subject,
)


def event_name(event: Event) -> str:
    if isinstance(event, ObservationsRecorded):
        return "observations"
    if isinstance(event, AlertRaised | AlertCleared):
        return "alert"
    if isinstance(event, IncidentChanged):
        return "incident"
    return "entity"


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
async def live(request: Request, principal: Reader) -> AsyncIterator[ServerSentEvent]:
    kernel = kernel_of(request)
    mailbox = Mailbox(kernel.bus, SUBJECTS)
    loop = asyncio.get_running_loop()
    checked = spoke = loop.time()
    try:
        yield ServerSentEvent(event="hello", data={"simulated": kernel.simulated})
        while True:
            try:
                event = await asyncio.wait_for(mailbox.queue.get(), RECHECK_SECONDS)
            except TimeoutError:
                event = None
            now = loop.time()
            if now - checked >= RECHECK_SECONDS:
                checked = now
                if not await still_signed_in(request, principal):
                    yield ServerSentEvent(event="signed-out", data={"reason": "credentials ended"})
                    return
            if event is None:
                if now - spoke >= KEEPALIVE_SECONDS:
                    spoke = now
                    yield ServerSentEvent(comment="keep-alive")
                continue
            if principal.scope is not None and not await anyio.to_thread.run_sync(
                event_visible, kernel.engine, principal, event
            ):
                continue
            yield ServerSentEvent(event=event_name(event), data=to_wire(event))
    finally:
        mailbox.close()
