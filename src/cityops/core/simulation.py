"""Drives a domain's simulator for the demo: every tick, the domain makes points and they go through
the same validation and recording path as points posted to the ingestion API."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

from cityops.core.ingest import IngestError, validate_points
from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)

MakePoints = Callable[[int, random.Random], list[dict[str, Any]]]  # (now_ms, rng) -> raw points


async def run_simulation(kernel: Kernel, make_points: MakePoints, interval_s: float, seed: int) -> None:
    rng = random.Random(seed)
    while True:
        now = kernel.now_ms()
        try:
            batch = validate_points(make_points(now, rng), kernel.registry, now, 100_000)
            await kernel.record(batch, source="simulator")
        except IngestError:
            log.exception("simulator produced invalid points")
        await asyncio.sleep(interval_s)
