"""Faults under load, each ending with a count (`assert_stored_exactly_once`): every batch acknowledged to
a client (202) is stored exactly once, whole, and the rollups are what the raw points give."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from cityops.backends.jetstream import INGEST_STREAM
from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.access.tokens import issue_token
from cityops.core.kernel import Kernel
from cityops.core.local_postgres import LocalPostgres

from ..conftest import NODE_MODULES, wait_for
from .conftest import NatsNode, Start, cityops_processes
from .under_load import Sender, assert_stored_exactly_once, stored_batches


def test_recorder_killed_in_the_middle_of_a_batch(
    kernel: Kernel, nats_node: NatsNode, start_cityops: Start, auth_headers: dict[str, str]
) -> None:
    api = start_cityops("api", [nats_node])
    recorder = start_cityops("recorder", [nats_node])
    sender = Sender([api.base], auth_headers, size=20_000)
    thread = sender.start()
    # Batches of 20,000 points keep the recorder storing most of the time: the kill lands mid-batch.
    wait_for("a few batches stored", lambda: len(stored_batches(kernel.engine)) >= 3, timeout=60, every_s=0.2)
    recorder.kill()
    wait_for(
        "more batches queued",
        lambda: len(sender.acknowledged) >= len(stored_batches(kernel.engine)) + 3,
        timeout=60,
    )
    sender.finish(thread)
    start_cityops("recorder", [nats_node])
    assert_stored_exactly_once(kernel.engine, sender)


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
    sender = Sender([api.base], auth_headers, size=1_000)
    thread = sender.start()
    wait_for("batches flowing", lambda: len(stored_batches(kernel.engine)) >= 5, timeout=60)
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
    sender.finish(thread)
    assert_stored_exactly_once(kernel.engine, sender)


def test_an_api_server_killed_while_clients_post(
    kernel: Kernel, nats_node: NatsNode, start_cityops: Start, auth_headers: dict[str, str]
) -> None:
    first = start_cityops("api", [nats_node], wait=False)
    second = start_cityops("api", [nats_node])
    start_cityops("recorder", [nats_node])
    # Batches of 20,000 points keep the first server busy: the kill lands while it takes a batch in.
    sender = Sender([first.base, second.base], auth_headers, size=20_000)
    thread = sender.start()
    wait_for("a few batches acknowledged", lambda: len(sender.acknowledged) >= 3, timeout=60, every_s=0.05)
    first.kill()
    wait_for("the client went on to the second server", lambda: sender.unanswered >= 1, timeout=30)
    before = len(sender.acknowledged)
    wait_for("202s from the second server", lambda: len(sender.acknowledged) >= before + 3, timeout=60)
    sender.finish(thread)
    assert_stored_exactly_once(kernel.engine, sender)


@pytest.fixture
def own_postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL cluster of this test's own, which it restarts (on either pass of the suite)."""
    server = LocalPostgres.start()
    yield server
    server.stop()


def test_postgresql_restarted_while_clients_post(
    own_postgres: LocalPostgres, nats_node: NatsNode, tmp_path: Path
) -> None:
    url = own_postgres.create_database("cityops")
    kernel = Kernel.open(url, node_modules=NODE_MODULES)
    kernel.load_samples()
    with kernel.engine.begin() as conn:
        create_user(conn, NewUser("fault-admin", Role.ADMIN), actor="tests")
        token = issue_token(conn, "tests", "user", "fault-admin", actor="tests").secret
    try:
        with cityops_processes(url, tmp_path) as start:
            api = start("api", [nats_node], wait=False)
            recorders = [start("recorder", [nats_node]), start("recorder", [nats_node])]
            sender = Sender([api.base], {"Authorization": f"Bearer {token}"}, size=5_000)
            thread = sender.start()
            wait_for(
                "batches stored",
                lambda: sender.going() and len(stored_batches(kernel.engine)) >= 3,
                timeout=120,
            )
            own_postgres.restart()  # pg_ctl restart: sessions ended, transactions in flight rolled back
            stored = len(stored_batches(kernel.engine))
            wait_for(
                "the recorders storing again",
                lambda: len(stored_batches(kernel.engine)) >= stored + 5,
                timeout=90,
            )
            sender.finish(thread)
            assert_stored_exactly_once(kernel.engine, sender)
            for recorder in recorders:
                assert recorder.process.poll() is None, recorder.log.read_text()[-3000:]
    finally:
        kernel.engine.dispose()
