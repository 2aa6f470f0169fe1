"""The wifi domain while the server runs: settings, the personal-data key, FreeRADIUS's credentials,
the detail reader that stores accounting (a thread, started and stopped with the domain), and the sweep that closes stale sessions and judges hotspot health (`Domain.setup`/`stop`)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from cityops.core.entities import make_urn
from cityops.core.ingest import IngestError, validate_points
from cityops.core.rules.engine import RuleNotFound
from cityops.core.store import write_transaction
from cityops.wifi.accounting import close_stale
from cityops.wifi.detail_reader import DetailReader
from cityops.wifi.health import DOWN_RULE, HotspotState, judge
from cityops.wifi.privacy import PersonalData, load_key
from cityops.wifi.registry import digest
from cityops.wifi.schema import access_points, radius_backends, sessions
from cityops.wifi.settings import WifiSettings
from cityops.wifi.sms import HttpGatewaySender, OutboxSender, SmsSender

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)
BACKENDS_TTL_S = 10.0


@dataclass
class WifiRuntime:
    kernel: Kernel
    settings: WifiSettings
    personal: PersonalData
    accounting: DetailReader
    sms: SmsSender
    _backends: frozenset[str] = frozenset()
    _backends_read: float = 0.0
    _rule_installed: bool = False
    last_states: list[HotspotState] = field(default_factory=list)

    def backend_allowed(self, secret: str) -> bool:
        """Whether `secret` is a FreeRADIUS server's (digests re-read every few seconds, so a server
        configured by `cityops wifi freeradius-config` in another process is known soon)."""
        if time.monotonic() - self._backends_read > BACKENDS_TTL_S:
            with self.kernel.engine.connect() as conn:
                self._backends = frozenset(conn.execute(select(radius_backends.c.secret_hash)).scalars())
            self._backends_read = time.monotonic()
        given = digest(secret)
        return any(hmac.compare_digest(given, known) for known in self._backends)

    def forget_backends(self) -> None:
        self._backends_read = 0.0

    def now_ms(self) -> int:
        return self.kernel.now_ms()

    def _sweep_store(self) -> list[HotspotState]:
        now = self.now_ms()
        with self.kernel.engine.connect() as conn:  # nothing to judge: take no write lock at all
            if conn.execute(select(access_points.c.id).limit(1)).first() is None and (
                conn.execute(select(sessions.c.id).where(sessions.c.stopped_ms.is_(None)).limit(1)).first()
                is None
            ):
                return []
        with write_transaction(self.kernel.engine) as conn:
            closed = close_stale(conn, now)
            states = judge(conn, now, self.settings.down_after_seconds * 1000)
        if closed:
            log.info("closed %d stale wifi sessions", closed)
        return states

    async def sweep(self) -> list[HotspotState]:
        """Close stale sessions, judge every hotspot, and send their `up` and `activeUsers` to the kernel."""
        states = await anyio.to_thread.run_sync(self._sweep_store)
        self.last_states = states
        if any(s.up is False for s in states):
            await self._install_rule()
        now = self.now_ms()
        points = []
        for state in states:
            if state.up is None or self.kernel.registry.resolve(make_urn("AccessPoint", state.id)) is None:
                continue
            urn = make_urn("AccessPoint", state.id)
            points.append({"entity": urn, "metric": "up", "time": now, "value": 1.0 if state.up else 0.0})
            points.append(
                {"entity": urn, "metric": "activeUsers", "time": now, "value": float(state.users_now)}
            )
        if points:
            try:
                batch = validate_points(points, self.kernel.registry, now, 100_000)
            except IngestError:
                log.exception("wifi health points rejected")
                return states
            await self.kernel.record(batch, source="wifi-health")
        return states

    async def _install_rule(self) -> None:
        """The hotspot-down rule, created once; afterwards it is the operator's to edit or disable."""
        if self._rule_installed:
            return
        try:
            self.kernel.rules.get(DOWN_RULE["id"])
        except RuleNotFound:
            try:
                await self.kernel.rules.create(DOWN_RULE)
            except OperationalError:
                log.warning("the store is busy: the hotspot-down rule will be created at the next sweep")
                return
        self._rule_installed = True

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_seconds)
            try:
                await self.sweep()
            except Exception:  # the next sweep tries again; nothing it derives is lost
                log.exception("wifi sweep failed")


def open_runtime(kernel: Kernel) -> WifiRuntime:
    settings = WifiSettings()
    personal = PersonalData(load_key(settings.hash_key_file))
    reader = DetailReader(
        kernel.engine,
        settings.detail_spool,
        personal,
        settings.interim_seconds,
        kernel.now_ms,
        settings.detail_poll_seconds,
    )
    reader.start()
    sms: SmsSender = OutboxSender()
    if settings.sms_gateway_url:
        sms = HttpGatewaySender(settings.sms_gateway_url, settings.sms_gateway_token)
    return WifiRuntime(kernel, settings, personal, reader, sms)


def stop_runtime(_kernel: Kernel, runtime: WifiRuntime) -> None:
    runtime.accounting.stop()


def runtime_of(kernel: Kernel) -> WifiRuntime:
    runtime = kernel.states.get("wifi")
    if not isinstance(runtime, WifiRuntime):
        raise RuntimeError("the wifi domain is not set up (Kernel.setup_domains)")
    return runtime
