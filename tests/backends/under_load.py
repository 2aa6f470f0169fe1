"""Clients posting batches while a fault is caused, and the count every fault test ends with."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import Engine, func, select

from cityops.core.schema import GRAIN_MS, batches, observations, rollups

from ..conftest import wait_for
from .test_ingest_queue import points


@dataclass(frozen=True, slots=True)
class Sent:
    first_ms: int
    size: int
    resent: bool  # the same points went out before without an answer (that earlier batch may be stored)


@dataclass
class Sender:
    """Posts batches of `size` points (distinct times) until stopped, and remembers what got a 202. A
    server that does not answer gets no more: the same points go to the next server, as a client behind
    a load balancer would retry them. A 503 moves on to the next points (they may be stored or not)."""

    bases: list[str]
    headers: dict[str, str]
    size: int
    acknowledged: dict[int, Sent] = field(default_factory=dict)
    refused: int = 0
    unanswered: int = 0
    unexpected: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        start = int(time.time() * 1000) - 3_600_000
        clients = [httpx.Client(base_url=base, headers=self.headers, timeout=30) for base in self.bases]
        server, sent, resending = 0, 0, False
        try:
            while not self.stop.is_set():
                first = start + sent * self.size
                try:
                    response = clients[server].post("/api/ingest", json={"points": points(first, self.size)})
                except httpx.HTTPError:
                    self.unanswered += 1
                    server, resending = (server + 1) % len(clients), True
                    time.sleep(0.05)
                    continue
                if response.status_code == 202:
                    self.acknowledged[response.json()["batch_id"]] = Sent(first, self.size, resending)
                elif response.status_code == 503:
                    self.refused += 1
                else:
                    self.unexpected.append(f"{response.status_code} {response.text[:300]}")
                sent, resending = sent + 1, False
        finally:
            for client in clients:
                client.close()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def going(self) -> bool:
        """True while every answer was a 202 or a 503 (for a `wait_for` to stop early otherwise)."""
        assert not self.unexpected, f"answers other than 202 and 503: {self.unexpected[:5]}"
        return True

    def finish(self, thread: threading.Thread) -> None:
        self.stop.set()
        thread.join(60)
        assert not thread.is_alive(), "the client did not stop"
        assert not self.unexpected, f"answers other than 202 and 503: {self.unexpected[:5]}"
        assert self.acknowledged, "no batch was acknowledged"


def stored_batches(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        return {row.id: row.points for row in conn.execute(select(batches.c.id, batches.c.points))}


def assert_stored_exactly_once(engine: Engine, sender: Sender) -> None:
    """Every batch acknowledged with a 202 is stored, whole; no point is stored twice; the rollups are
    what a recomputation from the raw points gives."""
    acknowledged = sender.acknowledged
    wait_for(
        "every acknowledged batch stored",
        lambda: acknowledged.keys() <= stored_batches(engine).keys(),
        timeout=120,
        every_s=0.5,
    )
    stored = stored_batches(engine)
    with engine.connect() as conn:
        raw = conn.execute(select(observations.c.entity_id, observations.c.metric_id, observations.c.ts_ms,
                                  observations.c.value)).all()  # fmt: skip
        minute_rows = conn.execute(select(rollups).where(rollups.c.grain == "m")).all()
        counts = dict(
            conn.execute(select(rollups.c.grain, func.sum(rollups.c.count)).group_by(rollups.c.grain)).all()
        )
        batch_points = conn.execute(select(func.coalesce(func.sum(batches.c.points), 0))).scalar_one()
    times = {row.ts_ms for row in raw}
    for batch_id, sent in acknowledged.items():
        missing = [t for t in range(sent.first_ms, sent.first_ms + sent.size) if t not in times]
        assert not missing, f"batch {batch_id}: {len(missing)} of its {sent.size} points missing"
        if not sent.resent:  # the whole batch is this batch's, not an earlier unanswered copy's
            assert stored[batch_id] == sent.size, f"batch {batch_id} stored {stored[batch_id]} points"
    if not any(sent.resent for sent in acknowledged.values()):
        # A batch written twice would leave a second row of no points (its points were all there).
        assert all(count > 0 for count in stored.values())
    # Every point is counted once in the raw table, once in the batches and once in the rollups.
    assert len(raw) == batch_points == sum(stored.values()) >= sum(s.size for s in acknowledged.values())
    assert counts == {grain: len(raw) for grain in GRAIN_MS}
    recomputed: dict[tuple[int, int, int], list[float]] = defaultdict(list)
    for entity_id, metric_id, ts_ms, value in raw:
        recomputed[(entity_id, metric_id, ts_ms - ts_ms % GRAIN_MS["m"])].append(value)
    assert {(r.entity_id, r.metric_id, r.bucket_ms) for r in minute_rows} == recomputed.keys()
    for row in minute_rows:
        values = recomputed[(row.entity_id, row.metric_id, row.bucket_ms)]
        assert (row.count, row.min, row.max) == (len(values), min(values), max(values))
        assert row.sum == pytest.approx(sum(values))
