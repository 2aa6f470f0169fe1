"""Publish/subscribe of typed events.

`Bus` is the interface; `InProcessBus` is the embedded default. A networked backend (NATS JetStream)
implements the same interface, so publishers and subscribers do not know which one runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from cityops.core.events import Event
from cityops.core.ingest import PointBatch

Handler = Callable[[Event], Awaitable[None]]
Unsubscribe = Callable[[], None]

log = logging.getLogger(__name__)


class Bus(Protocol):
    async def publish(self, event: Event) -> None:
        """Return once the bus holds the event (every subscriber has been handed it)."""

    def subscribe(self, subject: str, handler: Handler) -> Unsubscribe:
        """Call `handler` for each event whose subject is `subject` ('*' for all)."""

    async def subscribe_shared(self, group: str, subject: str, handler: Handler) -> Unsubscribe:
        """Hand each event of `subject` to one member of `group` across all processes (work that must be
        done once, such as sending a notification). The event is done with when `handler` returns; if it
        raises, or its process dies first, the event goes to a member again (at least once). Publishers
        never wait for it."""
        ...

    async def close(self) -> None: ...


class QueueUnavailable(RuntimeError):
    """The queue did not confirm that it holds a batch (its servers are unreachable): nothing is
    acknowledged to the client, who sends the batch again later."""


class BatchQueue(Protocol):
    """Where API servers leave validated batches for recorders (NATS JetStream in a cluster); without
    one, the kernel stores each batch itself before answering."""

    async def submit(self, batch: PointBatch, source: str) -> int:
        """Return the batch's id once the queue holds the batch durably; raise `QueueUnavailable` if it
        cannot say so."""
        ...


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._shared: set[asyncio.Future[None]] = set()

    async def publish(self, event: Event) -> None:
        handlers = [*self._handlers.get(event.subject, ()), *self._handlers.get("*", ())]
        for handler in handlers:
            try:
                await handler(event)
            except Exception:  # one faulty subscriber must not stop delivery to the others
                log.exception("subscriber failed on %s", event.subject)

    def subscribe(self, subject: str, handler: Handler) -> Unsubscribe:
        self._handlers.setdefault(subject, []).append(handler)

        def unsubscribe() -> None:
            handlers = self._handlers.get(subject, [])
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    async def subscribe_shared(self, group: str, subject: str, handler: Handler) -> Unsubscribe:
        """One process is the whole group: each event goes to `handler` in a task of its own."""

        async def spawn(event: Event) -> None:
            task: asyncio.Future[None] = asyncio.ensure_future(handler(event))
            self._shared.add(task)
            task.add_done_callback(self._shared_done)

        return self.subscribe(subject, spawn)

    def _shared_done(self, task: asyncio.Future[None]) -> None:
        self._shared.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("shared subscriber failed", exc_info=task.exception())

    async def close(self) -> None:
        self._handlers.clear()
        for task in list(self._shared):
            task.cancel()
        await asyncio.gather(*self._shared, return_exceptions=True)


class Mailbox:
    """A bounded per-subscriber queue: a slow reader (a browser tab) loses its oldest events, never
    slows the publisher. Used by the live feed, which is a view; the store is the durable record."""

    def __init__(self, bus: Bus, subjects: tuple[str, ...], maxsize: int = 1000) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self._unsubscribes = [bus.subscribe(subject, self._put) for subject in subjects]

    async def _put(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    def close(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
