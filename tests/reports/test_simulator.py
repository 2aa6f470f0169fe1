"""The demo's simulated reports go through the real desk: every sample passes its checks and is routed."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest
from sqlalchemy import select

from cityops.core.kernel import Kernel
from cityops.reports import simulator
from cityops.reports.desk import ReportDesk
from cityops.reports.routing import RoutingTable
from cityops.reports.schema import reports
from cityops.reports.settings import ReportSettings


def test_every_sample_is_accepted_routed_and_marked_simulated(kernel: Kernel) -> None:
    desk = ReportDesk(kernel, RoutingTable.load(ReportSettings().routing))
    codes = {category.code for category in desk.table.categories}
    assert {sample[0] for sample in simulator.SAMPLES} <= codes

    async def send_all() -> None:
        rng = random.Random(0)
        for sample in simulator.SAMPLES:
            await desk.submit(simulator.sample_submission(sample, rng, codes))

    asyncio.run(send_all())
    with kernel.engine.connect() as conn:
        rows = conn.execute(select(reports)).all()
    assert len(rows) == len(simulator.SAMPLES) == simulator.waiting(kernel)
    assert all(row.description.startswith(simulator.MARK) for row in rows)
    assert all(row.agency and row.area_code for row in rows)


@pytest.mark.parametrize("seed", range(5))
def test_samples_stay_near_their_place(seed: int) -> None:
    rng = random.Random(seed)
    sample = rng.choice(simulator.SAMPLES)
    submission = simulator.sample_submission(sample, rng, {"road"})
    assert submission.service_code == "road"  # a category the table lacks falls back to one it has
    assert submission.lon is not None and submission.lat is not None
    assert abs(submission.lon - sample[3]) <= 0.002 and abs(submission.lat - sample[4]) <= 0.002


async def run_for(kernel: Kernel, seconds: float) -> None:
    task = asyncio.create_task(simulator.simulate(kernel))
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_the_demo_sends_a_few_at_start_and_keeps_the_queue_under_its_cap(kernel: Kernel) -> None:
    asyncio.run(run_for(kernel, 2.0))
    assert simulator.waiting(kernel) == simulator.AT_START
    for _ in range(3):  # restarts of the demo on the same store stop at the cap
        asyncio.run(run_for(kernel, 2.0))
    assert simulator.waiting(kernel) == simulator.MAX_WAITING
