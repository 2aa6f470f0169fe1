"""The NGSI-LD API (ETSI GS CIM 009) at `/ngsi-ld/v1`: a view over the kernel's entities and
observations, for FIWARE clients (docs/ngsild.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from cityops.api.ngsild import batch, entities, subscriptions, temporal
from cityops.api.ngsild.notifications import Notifier


@asynccontextmanager
async def notifying(app: FastAPI) -> AsyncIterator[None]:
    """Subscriptions' notifications run while the app runs."""
    notifier = Notifier(app.state.kernel, app.state.settings.outbound_private_allowed)
    app.state.ngsild_notifier = notifier
    await notifier.start()
    try:
        yield
    finally:
        await notifier.stop()


router = APIRouter(lifespan=notifying)
for part in (entities, batch, temporal, subscriptions):
    router.include_router(part.router)
