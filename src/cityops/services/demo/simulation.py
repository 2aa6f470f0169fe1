"""The demo (`cityops demo`): SIMULATED dossiers for the running year, then a trickle of status events.

On a store without dossiers the simulated catalogue and the year so far are imported through the same
path as a real file; afterwards, every few seconds, a few open dossiers move on (accepted → processing
→ processed → returned, supplements provided) and some returned ones get a rating, through the same
path as events posted to the API. The index, alerts and panel follow incrementally.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import anyio.to_thread
from sqlalchemy import func, or_, select

from cityops.services.alerts import OPEN_CONDITION
from cityops.services.demo.generator import DemoProvince
from cityops.services.dossiers.events import RatingEvent
from cityops.services.dossiers.lifecycle import StatusEvent
from cityops.services.dossiers.model import DossierStatus
from cityops.services.importing.bulk import ImportReport
from cityops.services.importing.readers import Chunk
from cityops.services.runtime import DossiersChanged, ServicesRuntime, runtime_of
from cityops.services.schema import dossiers
from cityops.services.timing.periods import from_timestamp

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)
# A third of the published yearly volume: the demo starts in seconds; every rate and share is unchanged.
DEMO_DOSSIERS_PER_YEAR = 160_000
MONTH_ROWS = 1_000_000  # one chunk (one import) per month
TRICKLE_SECONDS = 15.0
EVENTS_PER_TRICKLE = 40
NEXT = {
    DossierStatus.NEW: DossierStatus.PROCESSING,
    DossierStatus.PROCESSING: DossierStatus.RELEASING,
    DossierStatus.WAITING: DossierStatus.PROCESSING,
    DossierStatus.RELEASING: DossierStatus.DONE,
}


def demo_months(runtime: ServicesRuntime, total: int = DEMO_DOSSIERS_PER_YEAR) -> Iterator[Chunk]:
    """The simulated catalogue (saved), then this year's dossiers up to now, one chunk per month."""
    now = from_timestamp(runtime.now_s())
    province = DemoProvince(runtime.area_book, runtime.calendar)
    runtime.save_catalogue(province.procedures, province.agencies)
    return province.chunks(now.year, total=total, until=now, chunk_rows=MONTH_ROWS)


def load_demo(runtime: ServicesRuntime, total: int = DEMO_DOSSIERS_PER_YEAR) -> list[ImportReport]:
    """Every month as its own file: each import holds the store's write lock briefly."""
    return [runtime.import_chunks([chunk], "simulated", "csv") for chunk in demo_months(runtime, total)]


def trickle(runtime: ServicesRuntime, rng: random.Random, count: int = EVENTS_PER_TRICKLE) -> int:
    """Move `count` open dossiers one step on; returns how many changed."""
    now = from_timestamp(runtime.now_s())
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(dossiers.c.code, dossiers.c.status)
            .where(or_(OPEN_CONDITION, dossiers.c.status == int(DossierStatus.RELEASING)))
            .order_by(func.random())
            .limit(count)
        ).all()
    events: list[StatusEvent | RatingEvent] = []
    for code, status in rows:
        following = NEXT.get(DossierStatus(status))
        if following is not None:
            events.append(StatusEvent(code=code, status=following, at=now))
            if following is DossierStatus.DONE and rng.random() < 0.3:
                events.append(RatingEvent(code=code, rating=rng.choice((2, 3, 3, 3, 1))))
    if not events:
        return 0
    return runtime.apply_events(events, "simulator").changed


async def run_demo(kernel: Kernel) -> None:
    runtime = runtime_of(kernel)
    if not await anyio.to_thread.run_sync(runtime.dossier_count):
        started = datetime.now()
        months = await anyio.to_thread.run_sync(demo_months, runtime)
        while (chunk := await anyio.to_thread.run_sync(next, months, None)) is not None:
            report = await anyio.to_thread.run_sync(runtime.import_chunks, [chunk], "simulated", "csv")
            await kernel.bus.publish(DossiersChanged("simulator", report.inserted))
            await asyncio.sleep(0.2)  # the other simulators write too
        log.info("simulated dossiers imported in %s", datetime.now() - started)
    rng = random.Random(766)
    while True:
        await asyncio.sleep(TRICKLE_SECONDS)
        try:
            changed = await anyio.to_thread.run_sync(trickle, runtime, rng)
        except ValueError:  # a dossier changed under the simulator (an operator's event): next round
            log.exception("simulated events refused")
            continue
        if changed:
            await kernel.bus.publish(DossiersChanged("simulator", changed))
