"""A recorder: takes queued batches from JetStream's durable consumer `recorders`, stores each one (those
it finds queued together in one transaction), and acknowledges it only after the store has committed it
(and its event is published).

Several recorders share the consumer, each batch going to one of them. A recorder that dies before its
acknowledgement leaves the batch to be delivered again after `ACK_WAIT_S`; the store keys batches by
their id, so a batch that had been committed is not stored twice (`Kernel.record_many`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from cityops.backends.jetstream import (
    ACK_WAIT_S,
    INGEST_STREAM,
    INGEST_SUBJECT,
    RECORDERS,
    JetStreamBus,
    keep_claimed,
)
from cityops.backends.wire import QueuedBatch, WireError, decode_batch
from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)

FETCH_BATCHES = 8
FETCH_WAIT_S = 2.0
# Once a batch has come, what else is queued already is taken with it (stored in the same transaction),
# waiting no longer than this: a lone batch is stored at once, a backlog in groups.
QUEUED_WAIT_S = 0.02
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
                messages = await subscription.fetch(1, timeout=FETCH_WAIT_S)
            except TimeoutError:  # nothing queued (nats-py raises both its own and asyncio's)
                continue
            except NatsError as exc:  # a server went away (its leaders are elected again); retried
                log.warning("fetching batches: %s; trying again", exc)
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            with contextlib.suppress(TimeoutError, NatsError):  # nothing more queued: the one alone
                messages += await subscription.fetch(FETCH_BATCHES - 1, timeout=QUEUED_WAIT_S)
            readable = []
            for message in messages:
                try:
                    readable.append((message, decode_batch(message.data)))
                except (WireError, ValueError, KeyError) as exc:
                    log.error("a queued batch cannot be read and is dropped: %s", exc)
                    await message.term()
            if readable:
                await self._store(readable)

    async def _store(self, group: list[tuple[Msg, QueuedBatch]]) -> None:
        """Store the group in one transaction and acknowledge each batch; if that fails, each batch on
        its own, so one batch the store refuses does not hold back the others."""
        working = [asyncio.create_task(keep_claimed(message, ACK_WAIT_S)) for message, _ in group]
        try:
            await self.kernel.record_many([(q.batch, q.source, q.batch_id) for _, q in group])
        except asyncio.CancelledError:
            raise
        except Exception:  # the store is unreachable: JetStream delivers the batches again
            if len(group) > 1:
                for one in group:
                    await self._store([one])
                return
            message, queued = group[0]
            log.exception("batch %d not stored; it will be delivered again", queued.batch_id)
            await message.nak(delay=RETRY_DELAY_S)
            return
        finally:
            for task in working:
                task.cancel()
        acks = await asyncio.gather(*(message.ack_sync() for message, _ in group), return_exceptions=True)
        for (_, queued), outcome in zip(group, acks, strict=True):
            if isinstance(outcome, NatsError):  # delivered again later, and then found stored: no harm
                log.warning("batch %d stored but not acknowledged: %s", queued.batch_id, outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                self.recorded += 1
