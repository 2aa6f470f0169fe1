"""Sending NGSI-LD notifications (clause 5.8.6): on a change of an entity a subscription watches, or every
`timeInterval` seconds, the entities' current state goes by HTTP POST to the subscription's endpoint.

- Changes come from the kernel's bus: `EntityUpserted` (name, place, attributes) and
  `ObservationsRecorded` (the metrics of every series in the batch), so NGSI-LD writes, the REST API, MQTT
  and the simulators all notify alike.
- `throttling`: changes within the window are gathered and sent together at its end, each entity once in
  its newest state — nothing is dropped.
- Delivery is at least once: an attempt that fails (a connection error, a timeout, a status other than
  2xx) is retried after 1, 2, 4 and 8 seconds; the subscription's record (`timesSent`, `timesFailed`,
  `lastSuccess`, `lastFailure` and its reason) says how it went. When those retries are spent, the
  changes go back to the subscription's pending ones and are tried again every last pause (8 s) until
  the endpoint takes them or the subscription is deleted: a saturated or restarting endpoint loses none.
- Several API servers notify once: changes come through the bus's shared subscription (`GROUP`), so each
  event goes to one server; that server holds the event until the notification carrying it went (or its
  retries were spent), at most `HOLD_S`. A server that dies before leaves the event to another one
  (NATS JetStream redelivers it). A change held longer (a long `throttling`) waits in memory only.
  `timeInterval` and `throttling` windows are claimed on the subscription's row, so one server sends
  each period's notification, and at most one goes per throttling window across the servers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import httpx
import orjson
from sqlalchemy import func, or_, select, update

from cityops.api.ngsild.context import body_context, link_header
from cityops.api.ngsild.exchange import tenant_areas
from cityops.api.ngsild.finding import find, keeps
from cityops.api.ngsild.persistence import load_one
from cityops.api.ngsild.representation import StoredEntity, iso, render
from cityops.api.ngsild.subscriptions import Subscription, from_row
from cityops.core.bus import Unsubscribe
from cityops.core.events import EntityUpserted, Event, ObservationsRecorded
from cityops.core.kernel import Kernel
from cityops.core.outbound import OutboundRefused, Resolver, pin_outbound_url, system_resolver
from cityops.core.schema import entities
from cityops.core.schema_subscriptions import subscriptions
from cityops.core.store import write_transaction

log = logging.getLogger(__name__)

RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0)  # pauses before the 2nd, 3rd... attempts
TIMEOUT_SECONDS = 5.0
MAX_ENTITIES = 1000  # per notification; a timeInterval subscription matching more sends several
TICK_SECONDS = 0.25
GROUP = "ngsild-notifier"
HOLD_S = 60.0  # the longest an event waits for its notifications before it is acknowledged anyway
RELOAD_S = 1.0  # how often a server checks for subscriptions made or changed on another one


@dataclass
class Pending:
    """Changed entities waiting for one subscription's next notification, and the events that await it."""

    urns: set[str] = field(default_factory=set)
    sent: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Notifier:
    def __init__(self, kernel: Kernel, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self.kernel = kernel
        self.allow_private = allow_private
        self.resolver = resolver
        self._subscriptions: list[Subscription] = []
        self._stale = True
        self._fingerprint: tuple[int, int | None] | None = None  # (count, newest modified_ms) when loaded
        self._checked = 0.0  # monotonic time of the last check for changes made on other servers
        self._pending: dict[str, Pending] = {}  # subscription id -> what its next notification carries
        self._last_sent: dict[str, float] = {}  # subscription id -> monotonic time of the last notification
        self._not_before: dict[str, float] = {}  # subscription id -> monotonic time of its next retry
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Unsubscribe] = []
        self.delivered = 0
        self.retry_seconds = RETRY_SECONDS

    # -- life --------------------------------------------------------------------------------------------
    async def start(self) -> None:
        # No kept-alive connections: each notification connects to the address checked for it (a pooled
        # connection keyed by address could carry another name's request over its TLS session).
        self._client = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._unsubscribe = [
            await self.kernel.bus.subscribe_shared(GROUP, subject, self._on_event)
            for subject in (EntityUpserted.subject, ObservationsRecorded.subject)
        ]
        self._spawn(self._tick())

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for pending in self._pending.values():  # not sent: their events go to another server
            pending.sent.cancel()
        if self._client is not None:
            await self._client.aclose()

    def changed(self) -> None:
        """A subscription was made, changed or deleted: read them again before the next notification."""
        self._stale = True

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _current(self) -> list[Subscription]:
        now = time.monotonic()
        if not self._stale and now - self._checked >= RELOAD_S:
            self._checked = now
            self._stale = await anyio.to_thread.run_sync(self._fingerprint_now) != self._fingerprint
        if self._stale:
            self._stale = False
            self._fingerprint, self._subscriptions = await anyio.to_thread.run_sync(self._load)
        now_ms = self.kernel.now_ms()
        return [s for s in self._subscriptions if s.live(now_ms)]

    def _fingerprint_now(self) -> tuple[int, int | None]:
        """Changes on any server show here: a subscription made or deleted changes the count, one
        changed its `modified_ms`."""
        with self.kernel.engine.connect() as conn:
            count, newest = conn.execute(select(func.count(), func.max(subscriptions.c.modified_ms))).one()
        return int(count), newest

    def _load(self) -> tuple[tuple[int, int | None], list[Subscription]]:
        with self.kernel.engine.connect() as conn:
            rows = conn.execute(select(subscriptions)).all()
        fingerprint = (len(rows), max((row.modified_ms for row in rows), default=None))
        loaded = []
        for row in rows:
            try:
                loaded.append(from_row(row))
            except Exception:  # a subscription stored by an older version: skipped, not fatal
                log.exception("subscription %s cannot be read", row.id)
        return fingerprint, loaded

    # -- changes -----------------------------------------------------------------------------------------
    async def _on_event(self, event: Event) -> None:
        """Return once the notifications carrying this change went (or `HOLD_S` passed)."""
        changes = await self._changes(event)
        if not changes:
            return
        awaited: list[asyncio.Future[None]] = []
        for subscription in await self._current():
            if subscription.interval_s is not None:
                continue
            for urn, (entity_type, names) in changes.items():
                if _selected(subscription, urn, entity_type) and (
                    subscription.watched is None or names is None or subscription.watched & names
                ):
                    pending = self._pending.get(subscription.id)
                    if pending is None:
                        pending = self._pending[subscription.id] = Pending()
                    pending.urns.add(urn)
                    awaited.append(pending.sent)
        if awaited:
            await asyncio.wait(set(awaited), timeout=HOLD_S)  # leaves the futures as they are
            if any(f.cancelled() for f in awaited):  # the server stops before sending
                raise asyncio.CancelledError

    async def _changes(self, event: Event) -> dict[str, tuple[str, frozenset[str] | None]]:
        """Entity URN -> (type, the attributes that changed; None: any)."""
        if isinstance(event, EntityUpserted):
            return {event.urn: (event.type, None)}
        if not isinstance(event, ObservationsRecorded):
            return {}
        names = self.kernel.registry.metric_names
        by_entity: dict[int, set[str]] = defaultdict(set)
        for entity_id, metric_id, _ts, _value in event.newest:
            if metric_id in names:
                by_entity[entity_id].add(names[metric_id][1])
        if not by_entity:
            return {}

        def urns() -> dict[int, tuple[str, str]]:
            with self.kernel.engine.connect() as conn:
                query = select(entities.c.id, entities.c.urn, entities.c.type).where(
                    entities.c.id.in_(by_entity)
                )
                return {row.id: (row.urn, row.type) for row in conn.execute(query)}

        found = await anyio.to_thread.run_sync(urns)
        return {urn: (kind, frozenset(by_entity[i])) for i, (urn, kind) in found.items()}

    # -- sending -----------------------------------------------------------------------------------------
    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self._send_due()
            except Exception:  # the loop must survive one bad subscription
                log.exception("NGSI-LD notifications failed this round")

    async def _send_due(self) -> None:
        now = time.monotonic()
        for subscription in await self._current():
            last = self._last_sent.get(subscription.id)
            if subscription.interval_s is not None:
                if last is None or now - last >= subscription.interval_s:
                    self._last_sent[subscription.id] = now
                    self._spawn(self._periodic(subscription))
                continue
            pending = self._pending.get(subscription.id)
            if pending is None or (last is not None and now - last < subscription.throttling_s):
                continue
            if now < self._not_before.get(subscription.id, 0.0):
                continue
            del self._pending[subscription.id]
            self._last_sent[subscription.id] = now
            self._spawn(self._on_change(subscription, pending))

    async def _areas(self, subscription: Subscription) -> frozenset[str] | None:
        if subscription.tenant is None:
            return None
        return await anyio.to_thread.run_sync(tenant_areas, self.kernel, subscription.tenant)

    async def _on_change(self, subscription: Subscription, pending: Pending) -> None:
        requeued = False
        try:
            claimed = None
            if subscription.throttling_s:
                window_ms = int(subscription.throttling_s * 1000)
                claimed = await anyio.to_thread.run_sync(self._claim, subscription.id, window_ms, 0)
                if claimed is None:
                    self._requeue(subscription, pending)  # another server notified within the window
                    requeued = True
                    return
            if await self._send_current(subscription, pending.urns, claimed):
                self._not_before.pop(subscription.id, None)
            else:  # retries spent: the changes wait for the next try, none is lost
                pause = self.retry_seconds[-1] if self.retry_seconds else 1.0
                self._requeue(subscription, pending)
                self._not_before[subscription.id] = time.monotonic() + pause
                requeued = True
        except asyncio.CancelledError:  # the server stops: not sent, the events go to another server
            pending.sent.cancel()
            raise
        finally:
            if not requeued and not pending.sent.done():
                pending.sent.set_result(None)

    def _requeue(self, subscription: Subscription, pending: Pending) -> None:
        """Keep the changes for the next try, at the next tick."""
        self._last_sent[subscription.id] = time.monotonic() - subscription.throttling_s
        waiting = self._pending.get(subscription.id)
        if waiting is None:
            self._pending[subscription.id] = pending
            return
        waiting.urns |= pending.urns

        def follow(sent: asyncio.Future[None]) -> None:
            if pending.sent.done():
                return
            if sent.cancelled():
                pending.sent.cancel()
            else:
                pending.sent.set_result(None)

        waiting.sent.add_done_callback(follow)

    async def _send_current(
        self, subscription: Subscription, urns: Iterable[str], claimed_ms: int | None
    ) -> bool:
        """Whether the endpoint took the notification (or nothing matched any more)."""
        areas = await self._areas(subscription)
        selection = subscription.selection(areas)

        def current() -> list[StoredEntity]:
            found = [load_one(self.kernel, urn, areas) for urn in sorted(urns)]
            return [e for e in found if e is not None and keeps(selection, e)]

        matching = await anyio.to_thread.run_sync(current)
        if not matching:
            return True
        return await self._deliver(subscription, matching, claimed_ms)

    async def _periodic(self, subscription: Subscription) -> None:
        interval_ms = int(subscription.interval_s * 1000) if subscription.interval_s else 0
        slack_ms = int(TICK_SECONDS * 2000)  # servers' ticks drift against each other
        claimed = await anyio.to_thread.run_sync(self._claim, subscription.id, interval_ms, slack_ms)
        if claimed is None:
            return  # another server sends this period's notification
        areas = await self._areas(subscription)
        selection = subscription.selection(areas)
        page, _total = await anyio.to_thread.run_sync(find, self.kernel, selection, 0, MAX_ENTITIES)
        matching = [e for e in page if _selected(subscription, e.urn, e.type)]
        if matching:
            await self._deliver(subscription, matching, claimed)

    async def _deliver(
        self, subscription: Subscription, found: list[StoredEntity], claimed_ms: int | None
    ) -> bool:
        """Send, retrying after each of `retry_seconds`; whether the endpoint took it."""
        notified_ms = self.kernel.now_ms() if claimed_ms is None else claimed_ms
        context = subscription.context
        data = [render(entity, context, subscription.format, subscription.attributes) for entity in found]
        notification: dict[str, Any] = {
            "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
            "type": "Notification",
            "subscriptionId": subscription.id,
            "notifiedAt": iso(notified_ms),
            "data": data,
        }
        headers = {"Content-Type": subscription.accept}
        if subscription.accept == "application/ld+json":
            notification["@context"] = body_context(context)
        else:
            headers["Link"] = link_header(context)
        body = orjson.dumps(notification)
        failure = None
        for attempt, pause in enumerate((0.0, *self.retry_seconds)):
            if attempt:
                await asyncio.sleep(pause)
            failure = await self._attempt(subscription.uri, body, headers)
            if failure is None:
                break
        await anyio.to_thread.run_sync(self._record, subscription.id, failure, notified_ms)
        if failure is None:
            self.delivered += 1
            return True
        log.warning("notification of %s to %s failed: %s", subscription.id, subscription.uri, failure)
        return False

    async def _attempt(self, uri: str, body: bytes, headers: dict[str, str]) -> str | None:
        """None when the endpoint took the notification, else why not."""
        assert self._client is not None
        try:
            # Checked again now (its name may resolve anew) and sent to the address that was checked, not
            # to the name, which could answer differently a moment later (DNS rebinding).
            pinned = await anyio.to_thread.run_sync(
                lambda: pin_outbound_url(uri, ("http", "https"), self.allow_private, resolver=self.resolver)
            )
            answer = await self._client.post(
                pinned.url,
                content=body,
                headers={**headers, "Host": pinned.host_header},
                extensions={"sni_hostname": pinned.host},  # TLS: the name's certificate, checked
            )
        except OutboundRefused as refused:
            return str(refused)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"[:500]
        if 200 <= answer.status_code < 300:
            return None
        return f"the endpoint answered {answer.status_code}"

    def _claim(self, subscription_id: str, window_ms: int, slack_ms: int) -> int | None:
        """Whether this server sends the subscription's next notification (a `timeInterval` period, or
        one after a `throttling` window): the first server to move the row's `last_notification_ms`
        past the window does (a compare-and-set every server tries). The claim's time, or None."""
        now_ms = self.kernel.now_ms()
        due = now_ms - window_ms + slack_ms
        with write_transaction(self.kernel.engine) as conn:
            claimed = conn.execute(
                update(subscriptions)
                .where(
                    subscriptions.c.id == subscription_id,
                    or_(
                        subscriptions.c.last_notification_ms.is_(None),
                        subscriptions.c.last_notification_ms <= due,
                    ),
                )
                .values(last_notification_ms=now_ms)
            )
        return now_ms if claimed.rowcount == 1 else None

    def _record(self, subscription_id: str, failure: str | None, now_ms: int) -> None:
        """The delivery record; `now_ms` is the notification's time (`notifiedAt`, the claim's time)."""
        values: dict[str, Any] = {
            "times_sent": subscriptions.c.times_sent + 1,
            "last_notification_ms": now_ms,
        }
        if failure is None:
            values["last_success_ms"] = now_ms
        else:
            values |= {
                "times_failed": subscriptions.c.times_failed + 1,
                "last_failure_ms": now_ms,
                "last_failure": failure,
            }
        with write_transaction(self.kernel.engine) as conn:
            conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(**values))


def _selected(subscription: Subscription, urn: str, entity_type: str) -> bool:
    if not subscription.selectors:
        return True
    for wanted_type, wanted_id, pattern in subscription.selectors:
        if wanted_type != entity_type:
            continue
        if wanted_id is not None and wanted_id != urn:
            continue
        if pattern is not None and re.search(pattern, urn) is None:
            continue
        return True
    return False
