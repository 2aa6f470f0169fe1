"""Faults under load, each ending with a count: every batch acknowledged to a client (202) is stored
exactly once, whole, and the rollups add up to the raw points."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import httpx
import nats
from sqlalchemy import func, select

from cityops.backends.jetstream import INGEST_STREAM
from cityops.core.kernel import Kernel
from cityops.core.schema import batches, observations, rollups

from ..conftest import wait_for
from .conftest import NatsNode, Start
from .test_ingest_queue import points, stored_batches


@dataclass
class Sender:
    """Posts batches of `size` points (distinct times) until stopped; remembers what got a 202."""

    base: str
    headers: dict[str, str]
    size: int
    acknowledged: dict[int, int] = field(default_factory=dict)
    refused: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        start = int(time.time() * 1000) - 3_600_000
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
            sent = 0
            while not self.stop.is_set():
                try:
                    response = client.post(
                        "/api/ingest", json={"points": points(start + sent * self.size, self.size)}
                    )
                except httpx.HTTPError:
                    self.refused += 1
                    continue
                sent += 1
                if response.status_code == 202:
                    self.acknowledged[response.json()["batch_id"]] = self.size
                else:
                    assert response.status_code == 503, response.text
                    self.refused += 1

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread


def assert_stored_exactly_once(kernel: Kernel, acknowledged: dict[int, int]) -> None:
    wait_for(
        "every acknowledged batch stored",
        lambda: acknowledged.keys() <= stored_batches(kernel).keys(),
        timeout=90,
        every_s=0.5,
    )
    stored = stored_batches(kernel)
    assert {batch_id: stored[batch_id] for batch_id in acknowledged} == acknowledged  # whole batches
    # A batch written twice would leave a second row of no points (its points were all there already).
    assert all(count > 0 for count in stored.values())
    with kernel.engine.connect() as conn:
        raw = conn.execute(select(func.count()).select_from(observations)).scalar_one()
        minute_counts = conn.execute(
            select(func.sum(rollups.c.count)).where(rollups.c.grain == "m")
        ).scalar_one()
        batch_points = conn.execute(select(func.sum(batches.c.points))).scalar_one()
    # Every point is counted once in the raw table, once in the batches and once in the rollups.
    assert raw == batch_points == minute_counts == sum(stored.values())
    assert raw >= sum(acknowledged.values())


def test_recorder_killed_in_the_middle_of_a_batch(
    kernel: Kernel, nats_node: NatsNode, start_cityops: Start, auth_headers: dict[str, str]
) -> None:
    api = start_cityops("api", [nats_node])
    recorder = start_cityops("recorder", [nats_node])
    sender = Sender(api.base, auth_headers, size=20_000)
    thread = sender.start()
    # Batches of 20,000 points keep the recorder storing most of the time: the kill lands mid-batch.
    wait_for("a few batches stored", lambda: len(stored_batches(kernel)) >= 3, timeout=60, every_s=0.2)
    recorder.kill()
    wait_for(
        "more batches queued", lambda: len(sender.acknowledged) >= len(stored_batches(kernel)) + 3, timeout=60
    )
    sender.stop.set()
    thread.join(30)
    start_cityops("recorder", [nats_node])
    assert_stored_exactly_once(kernel, sender.acknowledged)


async def stream_leader(node: NatsNode) -> str:
    nc = await nats.connect(node.url)
    try:
        info = await nc.jetstream().stream_info(INGEST_STREAM)
        assert info.cluster is not None and info.cluster.leader is not None
        return info.cluster.leader
    finally:
        await nc.close()


def test_a_nats_node_of_three_killed_and_restarted_under_load(
    kernel: Kernel, nats_cluster: list[NatsNode], start_cityops: Start, auth_headers: dict[str, str]
) -> None:
    api = start_cityops("api", nats_cluster, replicas=3)
    start_cityops("recorder", nats_cluster, replicas=3)
    sender = Sender(api.base, auth_headers, size=1_000)
    thread = sender.start()
    wait_for("batches flowing", lambda: len(stored_batches(kernel)) >= 5, timeout=60)
    # The stream's leader is the node whose loss hurts most: the others elect a new one.
    leader_name = asyncio.run(stream_leader(nats_cluster[0]))
    leader = next(node for node in nats_cluster if node.name == leader_name)
    leader.kill()
    before = len(sender.acknowledged)
    wait_for("202s again without the old leader", lambda: len(sender.acknowledged) >= before + 10, timeout=60)
    leader.start()
    wait_for(f"{leader.name} back", leader.healthy, timeout=60)
    after = len(sender.acknowledged)
    wait_for("202s after the restart", lambda: len(sender.acknowledged) >= after + 10, timeout=60)
    sender.stop.set()
    thread.join(30)
    assert_stored_exactly_once(kernel, sender.acknowledged)
