"""The demo's simulated community wifi (the dashboard labels it as simulated), driving the real path:
hotspots registered in the wifi registry (tenant `mo-phong`, "simulated"), heartbeats with each device's
key, and accounting Start / Interim-Update / Stop written to the detail spool (stream `simulated`) that
FreeRADIUS writes to, so the detail reader stores them as it stores FreeRADIUS's; the sweep then sends `up` and `activeUsers` to the kernel as for real hotspots.

Hotspots are scattered, with a fixed seed, around public places of the former Bình Dương province. One
hotspot falls silent 4 minutes in 15, so the demo shows a "hotspot down" alert and a degraded site.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import anyio.to_thread
from sqlalchemy import insert, select, update

from cityops.core.domain import SampleEntity
from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.wifi.accounting import Packet
from cityops.wifi.detail_format import DetailRecord
from cityops.wifi.detail_reader import append_to_spool, packet_record
from cityops.wifi.health import Heartbeat, record_heartbeat
from cityops.wifi.registry import digest, now_ms
from cityops.wifi.runtime import runtime_of
from cityops.wifi.schema import access_points, nas_clients, plans, tenants

log = logging.getLogger(__name__)
PLACES = (
    ("Công viên Thủ Dầu Một", 106.6560, 10.9800),
    ("Chợ Thủ Dầu Một", 106.6530, 10.9790),
    ("Trung tâm Hành chính tập trung", 106.6730, 11.0560),
    ("Chợ Lái Thiêu, Thuận An", 106.7010, 10.9060),
    ("Trung tâm Dĩ An", 106.7690, 10.9070),
    ("Trung tâm Bến Cát", 106.5960, 11.1500),
    ("Trung tâm Tân Uyên", 106.7970, 11.0620),
    ("Thị trấn Phước Vĩnh, Phú Giáo", 106.7960, 11.2920),
    ("Thị trấn Dầu Tiếng", 106.3640, 11.2780),
)
HOTSPOTS_PER_PLACE = 3
OUTAGE_HOTSPOT = "ap-05-2"
OUTAGE_EVERY_MS = 15 * 60_000
OUTAGE_LASTS_MS = 4 * 60_000
TENANT = "mo-phong"
NAS = "sim-nas"
STREAM = "simulated"
TICK_S = 3.0


@dataclass(frozen=True)
class Hotspot:
    id: str
    name: str
    site: str
    lon: float
    lat: float
    mac: str


def _hotspots() -> list[Hotspot]:
    rng = random.Random(2021)
    hotspots = []
    for place_index, (place, lon, lat) in enumerate(PLACES):
        for n in range(HOTSPOTS_PER_PLACE):
            hotspots.append(
                Hotspot(
                    f"ap-{place_index:02d}-{n}",
                    f"{place} #{n + 1}",
                    place,
                    lon + rng.uniform(-0.006, 0.006),
                    lat + rng.uniform(-0.006, 0.006),
                    f"02:5e:00:00:{place_index:02x}:{n:02x}",
                )
            )
    return hotspots


HOTSPOTS = _hotspots()


def sample_access_points() -> Iterator[tuple[str, SampleEntity]]:
    for spot in HOTSPOTS:
        attributes = {"simulated": True, "tenant": TENANT, "site": spot.site}
        yield "AccessPoint", SampleEntity(spot.id, spot.name, spot.lon, spot.lat, attributes)


def register(kernel: Kernel) -> dict[str, str]:
    """The simulated tenant, plan, NAS and hotspots (once); new heartbeat keys for this run."""
    keys = {spot.id: secrets.token_urlsafe(24) for spot in HOTSPOTS}
    with write_transaction(kernel.engine) as conn:
        tenant = conn.execute(select(tenants.c.id).where(tenants.c.slug == TENANT)).scalar()
        if tenant is None:
            tenant = conn.execute(
                insert(tenants).values(
                    slug=TENANT,
                    name="Wifi công cộng (mô phỏng) / Community wifi (simulated)",
                    kind="community",
                    hash_personal_data=True,
                    created_ms=now_ms(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(plans).values(
                    tenant_id=tenant,
                    name="free",
                    session_seconds=3600,
                    daily_quota_bytes=1_000_000_000,
                    down_kbps=5000,
                    up_kbps=1000,
                    max_devices=2,
                )
            )
            conn.execute(
                insert(nas_clients).values(
                    tenant_id=tenant,
                    name=NAS,
                    ip_address="192.0.2.1",
                    secret="simulated-only",
                    created_ms=now_ms(),
                )
            )
        nas_id = conn.execute(select(nas_clients.c.id).where(nas_clients.c.name == NAS)).scalar_one()
        known = set(conn.execute(select(access_points.c.id)).scalars())
        for spot in HOTSPOTS:
            values = {"key_hash": digest(keys[spot.id])}
            if spot.id in known:
                conn.execute(update(access_points).where(access_points.c.id == spot.id).values(**values))
                continue
            conn.execute(
                insert(access_points).values(
                    id=spot.id,
                    tenant_id=tenant,
                    mac=spot.mac,
                    ssids=["Wifi-BinhDuong-Free"],
                    model="simulated",
                    firmware="simulated",
                    nas_id=nas_id,
                    site=spot.site,
                    created_ms=now_ms(),
                    **values,
                )
            )
    return keys


@dataclass
class Crowd:
    """Sessions open on each hotspot; a few start, update and stop every tick."""

    rng: random.Random
    serial: int = 0
    open: dict[str, dict[str, int]] = field(default_factory=dict)  # session id -> counters

    def tick(self, spot: Hotspot, silent: bool) -> list[Packet]:
        packets: list[Packet] = []
        mine = [sid for sid in self.open if sid.startswith(spot.id + "/")]
        if silent:
            return packets
        for sid in mine:
            counters = self.open[sid]
            counters["seconds"] += int(TICK_S)
            counters["in"] += self.rng.randint(10_000, 400_000)
            counters["out"] += self.rng.randint(50_000, 3_000_000)
            if self.rng.random() < 0.03:
                packets.append(self._packet("Stop", sid, spot))
                del self.open[sid]
            elif self.rng.random() < 0.2:
                packets.append(self._packet("Interim-Update", sid, spot))
        wanted = max(0, round(self.rng.gauss(12, 4)))
        for _ in range(max(0, min(3, wanted - len(mine)))):
            self.serial += 1
            sid = f"{spot.id}/{self.serial}"
            self.open[sid] = {"seconds": 0, "in": 0, "out": 0, "device": self.rng.randrange(2**24)}
            packets.append(self._packet("Start", sid, spot))
        return packets

    def _packet(self, status: str, sid: str, spot: Hotspot) -> Packet:
        counters = self.open[sid]
        device = counters["device"]
        return Packet(
            status=status,  # type: ignore[arg-type]
            session_id=sid,
            username="simulated",
            calling_station=f"02:aa:{device >> 16 & 255:02x}:{device >> 8 & 255:02x}:{device & 255:02x}:01",
            called_station=spot.mac.replace(":", "-").upper() + ":Wifi-BinhDuong-Free",
            session_seconds=counters["seconds"],
            input_bytes=counters["in"],
            output_bytes=counters["out"],
            terminate_cause="User-Request" if status == "Stop" else None,
            delay_seconds=0,
            interim_seconds=60,
        )


def is_silent(ap_id: str, now_ms: int) -> bool:
    """The scripted outage: no heartbeat and no accounting from this hotspot."""
    return ap_id == OUTAGE_HOTSPOT and now_ms % OUTAGE_EVERY_MS < OUTAGE_LASTS_MS


async def simulate(kernel: Kernel) -> None:
    runtime = runtime_of(kernel)
    keys = await anyio.to_thread.run_sync(register, kernel)
    crowd = Crowd(random.Random(11))
    beat = Heartbeat.model_validate({"resources": {"load": [0.2, 0.2, 0.1], "cpus": 1}})
    while True:
        now = kernel.now_ms()
        records: list[DetailRecord] = []
        try:
            for spot in HOTSPOTS:
                silent = is_silent(spot.id, now)
                if not silent:
                    await anyio.to_thread.run_sync(heartbeat, kernel, spot.id, keys[spot.id], beat)
                records.extend(packet_record(NAS, p, now) for p in crowd.tick(spot, silent))
            append_to_spool(runtime.accounting.spool, STREAM, records, now)
            await runtime.sweep()
        except Exception:  # the demo carries on at the next tick
            log.exception("wifi simulator tick failed")
        await asyncio.sleep(TICK_S)


def heartbeat(kernel: Kernel, ap_id: str, key: str, body: Heartbeat) -> None:
    with write_transaction(kernel.engine) as conn:
        record_heartbeat(conn, ap_id, key, body, kernel.now_ms())
