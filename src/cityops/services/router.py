"""The services domain's API (mounted under `/api/services`) and what runs beside it while the app runs:
the per-dossier alert scan and the accumulator's clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from cityops.core.events import Event
from cityops.services.alerts import DossierAlerts
from cityops.services.routes_data import data_router
from cityops.services.routes_index import index_router
from cityops.services.runtime import runtime_of

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

SCAN_SECONDS = 60.0


def build_router(kernel: Kernel) -> APIRouter:
    runtime = runtime_of(kernel)
    alerts = DossierAlerts(kernel, runtime)

    async def publish(event: Event) -> None:
        await kernel.bus.publish(event)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(alerts.run(SCAN_SECONDS), name="services-dossier-alerts")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    router = APIRouter(tags=["services"], lifespan=lifespan)
    router.include_router(data_router(runtime, publish, alerts.scan))
    router.include_router(index_router(runtime))
    return router
