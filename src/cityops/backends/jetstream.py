"""The NATS JetStream bus: the kernel's `Bus` for events and its `BatchQueue` for ingestion.

Two streams, created (or updated) when the bus connects:
- `CITYOPS_INGEST` (work queue, subject `cityops.ingest`): validated batches from API servers; `submit`
  returns only once JetStream has stored the batch (on `replicas` servers). The message id is the batch
  id, so a batch published twice is stored once; recorders consume it through the durable pull consumer
  `recorders` (see `cityops.backends.recorder`).
- `CITYOPS_EVENTS` (subjects `cityops.events.<subject>`, kept an hour): every event published on the
  bus. Each process reads what the stream stores through an ordered consumer and hands it to its local
  subscribers, its own events included (they come back through NATS, so every process sees one order).
  Work that must be done once per event (`subscribe_shared`) goes through a durable pull consumer per
  group and subject (`<group>-<subject>`), shared by the group's processes: each event to one of them,
  acknowledged when its handler returns, delivered again (to any of them) if it raises or its process
  dies.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError

from cityops.backends.wire import (
    EVENT_TYPE_HEADER,
    MAX_PAYLOAD,
    WireError,
    decode_event,
    encode_batch,
    encode_event,
    event_type,
)
from cityops.core.bus import Handler, InProcessBus, QueueUnavailable, Unsubscribe
from cityops.core.events import Event, ObservationsRecorded
from cityops.core.ingest import PointBatch

log = logging.getLogger(__name__)

INGEST_STREAM = "CITYOPS_INGEST"
INGEST_SUBJECT = "cityops.ingest"
EVENTS_STREAM = "CITYOPS_EVENTS"
EVENTS_PREFIX = "cityops.events."
RECORDERS = "recorders"
DUPLICATE_WINDOW_S = 120.0
EVENTS_MAX_AGE_S = 3600.0
# A recorder that has neither acknowledged a batch nor said it is still at it (`Recorder`, every
# `ACK_WAIT_S / 4`) within this time is presumed dead: the batch goes to another recorder (the store's
# batch id makes the second write a no-op if the first one committed).
ACK_WAIT_S = 8.0
_BATCH_ID_EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
# Shared consumers: a member that neither acknowledged an event nor said it is still at it within
# SHARED_ACK_WAIT_S is presumed dead; at most SHARED_MAX_PENDING events are out at once; an event whose
# handler keeps failing is given up after SHARED_MAX_DELIVER attempts.
SHARED_ACK_WAIT_S = 30.0
SHARED_MAX_PENDING = 10_000
SHARED_MAX_DELIVER = 5
SHARED_FETCH = 256
SHARED_FETCH_WAIT_S = 1.0
SHARED_RETRY_DELAY_S = 1.0


def new_batch_id() -> int:
    """Milliseconds since 2025 and 12 random bits: unique across API servers, below 2**53 (exact in
    JavaScript) until 2059. A clash inside JetStream's duplicate window shows as a duplicate ack and is
    retried with a new id (`JetStreamBus.submit`)."""
    return ((int(time.time() * 1000) - _BATCH_ID_EPOCH_MS) << 12) | secrets.randbits(12)


@dataclass(frozen=True, slots=True)
class BusSettings:
    servers: list[str]
    replicas: int = 1
    publish_timeout_s: float = 5.0


class JetStreamBus:
    def __init__(self, settings: BusSettings) -> None:
        self.settings = settings
        self._local = InProcessBus()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._subscription: Subscription | None = None
        self._pulling: set[asyncio.Task[None]] = set()

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("the NATS bus is not connected (JetStreamBus.connect)")
        return self._js

    async def connect(self) -> None:
        """Connect (reconnecting for ever if a server goes away), create the streams, listen to events."""
        self._nc = await nats.connect(
            servers=self.settings.servers,
            name="cityops",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            error_cb=self._on_error,
        )
        self._js = self._nc.jetstream(timeout=self.settings.publish_timeout_s)
        await self._ensure_stream(
            StreamConfig(
                name=INGEST_STREAM,
                subjects=[INGEST_SUBJECT],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                num_replicas=self.settings.replicas,
                duplicate_window=DUPLICATE_WINDOW_S,
                max_msg_size=MAX_PAYLOAD,
            )
        )
        await self._ensure_stream(
            StreamConfig(
                name=EVENTS_STREAM,
                subjects=[f"{EVENTS_PREFIX}>"],
                storage=StorageType.FILE,
                num_replicas=self.settings.replicas,
                duplicate_window=DUPLICATE_WINDOW_S,
                max_age=EVENTS_MAX_AGE_S,
            )
        )
        await self.js.add_consumer(
            INGEST_STREAM,
            ConsumerConfig(
                durable_name=RECORDERS,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=ACK_WAIT_S,
                max_ack_pending=64,
            ),
        )
        # An ordered consumer delivers what the stream stored, in its order, so an event published twice
        # under one message id (a batch announced again) reaches subscribers once.
        self._subscription = await self.js.subscribe(
            f"{EVENTS_PREFIX}>",
            cb=self._dispatch,
            stream=EVENTS_STREAM,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            idle_heartbeat=2.0,
            pending_msgs_limit=100_000,
        )

    async def _ensure_stream(self, config: StreamConfig) -> None:
        try:
            await self.js.add_stream(config)
        except BadRequestError:  # exists with other settings: bring it to these
            await self.js.update_stream(config)

    async def _on_error(self, error: Exception) -> None:
        log.warning("NATS: %s", error)

    async def _dispatch(self, msg: Msg) -> None:
        try:
            event = decode_event((msg.headers or {}).get(EVENT_TYPE_HEADER, ""), msg.data)
        except (WireError, ValueError) as exc:
            log.warning("dropped an unreadable event on %s: %s", msg.subject, exc)
            return
        await self._local.publish(event)

    async def publish(self, event: Event) -> None:
        """Return once JetStream has stored the event; subscribers (in every process) get it shortly
        after, through NATS. A batch's event carries its batch id as message id, so a recorder that
        stores a redelivered batch cannot announce it twice."""
        headers = {EVENT_TYPE_HEADER: event_type(event)}
        if isinstance(event, ObservationsRecorded):
            headers["Nats-Msg-Id"] = f"recorded-{event.batch_id}"
        await self.js.publish(f"{EVENTS_PREFIX}{event.subject}", encode_event(event), headers=headers)

    def subscribe(self, subject: str, handler: Handler) -> Unsubscribe:
        return self._local.subscribe(subject, handler)

    async def submit(self, batch: PointBatch, source: str) -> int:
        """Return the batch id once JetStream has stored the batch."""
        while True:
            batch_id = new_batch_id()
            try:
                ack = await self.js.publish(
                    INGEST_SUBJECT,
                    encode_batch(batch_id, source, batch),
                    stream=INGEST_STREAM,
                    headers={"Nats-Msg-Id": str(batch_id)},
                )
            except NatsError as exc:
                raise QueueUnavailable(f"JetStream did not confirm the batch ({type(exc).__name__})") from exc
            if not ack.duplicate:
                return batch_id
            log.info("batch id %d clashed inside the duplicate window; drawing another", batch_id)

    async def subscribe_shared(self, group: str, subject: str, handler: Handler) -> Unsubscribe:
        durable = f"{group}-{subject}"
        await self.js.add_consumer(
            EVENTS_STREAM,
            ConsumerConfig(
                durable_name=durable,
                filter_subject=f"{EVENTS_PREFIX}{subject}",
                deliver_policy=DeliverPolicy.NEW,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=SHARED_ACK_WAIT_S,
                max_ack_pending=SHARED_MAX_PENDING,
                max_deliver=SHARED_MAX_DELIVER,
            ),
        )
        subscription = await self.js.pull_subscribe_bind(durable=durable, stream=EVENTS_STREAM)
        pulling = asyncio.create_task(self._pull_shared(subscription, handler))
        self._pulling.add(pulling)

        def unsubscribe() -> None:
            pulling.cancel()
            self._pulling.discard(pulling)

        return unsubscribe

    async def _pull_shared(self, subscription: JetStreamContext.PullSubscription, handler: Handler) -> None:
        handling: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    messages = await subscription.fetch(SHARED_FETCH, timeout=SHARED_FETCH_WAIT_S)
                except TimeoutError:  # nothing new (nats-py raises both its own and asyncio's)
                    continue
                except NatsError as exc:  # a server went away; its leaders are elected again
                    log.warning("fetching shared events: %s; trying again", exc)
                    await asyncio.sleep(SHARED_RETRY_DELAY_S)
                    continue
                for message in messages:
                    task = asyncio.create_task(_handle_shared(message, handler))
                    handling.add(task)
                    task.add_done_callback(handling.discard)
        finally:  # events being handled go to another member after SHARED_ACK_WAIT_S
            for task in list(handling):
                task.cancel()

    async def close(self) -> None:
        for pulling in list(self._pulling):
            pulling.cancel()
        await asyncio.gather(*self._pulling, return_exceptions=True)
        self._pulling.clear()
        await self._local.close()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()
        self._nc = None
        self._js = None


async def keep_claimed(message: Msg, ack_wait_s: float) -> None:
    """Tell JetStream a message is still being worked on, so slow work is not taken for a death."""
    while True:
        await asyncio.sleep(ack_wait_s / 4)
        try:
            await message.in_progress()
        except NatsError:
            return


async def _handle_shared(message: Msg, handler: Handler) -> None:
    try:
        event = decode_event((message.headers or {}).get(EVENT_TYPE_HEADER, ""), message.data)
    except (WireError, ValueError) as exc:
        log.warning("dropped an unreadable shared event on %s: %s", message.subject, exc)
        await message.term()
        return
    working = asyncio.create_task(keep_claimed(message, SHARED_ACK_WAIT_S))
    try:
        await handler(event)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("a shared subscriber failed on %s; the event will be delivered again", message.subject)
        await message.nak(delay=SHARED_RETRY_DELAY_S)
        return
    finally:
        working.cancel()
    try:
        await message.ack()
    except NatsError as exc:  # handled, not acknowledged: delivered again (at least once)
        log.warning("a shared event was handled but not acknowledged: %s", exc)


async def wait_connected(bus: JetStreamBus, timeout_s: float) -> None:
    """Connect, retrying while the servers start (a cluster elects its JetStream leaders first)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await bus.connect()
            return
        except Exception:
            await bus.close()
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
