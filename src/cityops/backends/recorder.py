"""A recorder: takes queued batches from JetStream's durable consumer `recorders`, stores each one, and
acknowledges it only after the store has committed it (and its event is published).

Several recorders share the consumer, each batch going to one of them. A recorder that dies before its
acknowledgement leaves the batch to be delivered again after `ACK_WAIT_S`; the store keys batches by
their id, so a batch that had been committed is not stored twice (`Kernel.record`)."""

from __future__ import annotations

import asyncio
import logging

from nats.errors import Error as NatsError

from cityops.backends.jetstream import (
    ACK_WAIT_S,
    INGEST_STREAM,
    INGEST_SUBJECT,
    RECORDERS,
    JetStreamBus,
    keep_claimed,
)
from cityops.backends.wire import WireError, decode_batch
from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)

FETCH_BATCHES = 8
FETCH_WAIT_S = 2.0
RETRY_DELAY_S = 1.0


class Recorder:
    def __init__(self, kernel: Kernel, bus: JetStreamBus) -> None:
        self.kernel = kernel
        self.bus = bus
        self.recorded = 0

    async def run(self) -> None:
        """Record for ever (cancel the task to stop)."""
        subscription = await self.bus.js.pull_subscribe(
            INGEST_SUBJECT, durable=RECORDERS, stream=INGEST_STREAM
        )
        while True:
            try:
                messages = await subscription.fetch(FETCH_BATCHES, timeout=FETCH_WAIT_S)
            except TimeoutError:  # nothing queued (nats-py raises both its own and asyncio's)
                continue
            except NatsError as exc:  # a server went away (its leaders are elected again); retried
                log.warning("fetching batches: %s; trying again", exc)
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            for message in messages:
                try:
                    queued = decode_batch(message.data)
                except (WireError, ValueError, KeyError) as exc:
                    log.error("a queued batch cannot be read and is dropped: %s", exc)
                    await message.term()
                    continue
                working = asyncio.create_task(keep_claimed(message, ACK_WAIT_S))
                try:
                    await self.kernel.record(queued.batch, queued.source, queued.batch_id)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the store is unreachable: JetStream delivers the batch again
                    log.exception("batch %d not stored; it will be delivered again", queued.batch_id)
                    await message.nak(delay=RETRY_DELAY_S)
                    continue
                finally:
                    working.cancel()
                try:
                    await message.ack_sync()
                except NatsError as exc:  # delivered again later, and then found stored: no harm
                    log.warning("batch %d stored but not acknowledged: %s", queued.batch_id, exc)
                    continue
                self.recorded += 1
