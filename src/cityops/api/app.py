"""The FastAPI application: the kernel's routers, each domain's router, the dashboard pages."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp

from cityops import __version__
from cityops.api import (
    agencies,
    auth,
    ingest,
    live,
    map,
    meta,
    ngsild,
    opendata,
    operations,
    request_limits,
    series,
    store_outage,
    users,
)
from cityops.api.response_headers import ResponseHeaders
from cityops.api.scoping import domain_guard
from cityops.bridges.mqtt import MqttBridge
from cityops.config import Settings
from cityops.core.access.throttle import LoginThrottle
from cityops.core.access.usage import FLUSH_SECONDS, UsageLog
from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)


async def write_usage(kernel: Kernel, usage: UsageLog) -> None:
    """Write when tokens and sessions were last used, every few seconds (never in a request)."""
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        try:
            await asyncio.to_thread(usage.flush, kernel.engine)
        except OperationalError as exc:
            log.warning("could not write token and session use yet: %s", exc)


class CityopsApp(FastAPI):
    """FastAPI with two wrappers outside its whole stack: the refusals Starlette's body limit sends on its
    own (outside every user middleware and exception handler) get the JSON body and the security headers
    that every other response gets."""

    def build_middleware_stack(self) -> ASGIApp:
        return ResponseHeaders(request_limits.JsonTooLarge(super().build_middleware_stack()))


def create_app(kernel: Kernel, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    usage = UsageLog()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        kernel.rules.configure(settings.rules)
        kernel.incidents.configure(settings.incidents)
        if kernel.evaluates:  # else the cluster's rule evaluators run them (`cityops serve --role rules`)
            tasks.extend(await kernel.start_evaluation())
        tasks.append(asyncio.create_task(write_usage(kernel, usage), name="access-usage"))
        if settings.mqtt.url is not None:
            bridge = MqttBridge(kernel, settings.mqtt, settings.max_batch_points)
            app.state.mqtt_bridge = bridge
            tasks.append(asyncio.create_task(bridge.run(), name="mqtt-bridge"))
        if settings.simulate:
            for domain in kernel.domains:
                if domain.simulator is not None:
                    tasks.append(
                        asyncio.create_task(domain.simulator(kernel), name=f"simulate-{domain.name}")
                    )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(usage.flush, kernel.engine)
            await asyncio.to_thread(kernel.stop_domains)

    app = CityopsApp(
        title="cityops",
        version=__version__,
        description="Trung tâm điều hành thành phố thông minh — Smart City Intelligent Operations Center",
        lifespan=lifespan,
        max_body_size=settings.max_request_bytes,
    )
    request_limits.install(app)
    store_outage.install(app)
    app.state.kernel = kernel
    app.state.settings = settings
    app.state.rules = kernel.rules
    app.state.incidents = kernel.incidents
    app.state.login_throttle = LoginThrottle(settings.access, kernel.engine)
    app.state.usage = usage
    kernel.setup_domains()
    # Each kernel router declares who may call each endpoint (cityops.api.auth, cityops.api.scoping);
    # domain routers are guarded as a whole.
    # Ingestion interfaces take batches up to `max_body_bytes`; everything else `max_request_bytes`.
    for ingestion in (ingest, ngsild):
        app.include_router(ingestion.router, max_body_size=settings.max_body_bytes)
    for router in (map, series, meta, live, auth, users, operations, agencies, opendata):
        app.include_router(router.router)
    for domain in kernel.domains:
        if domain.router is not None:
            app.include_router(
                domain.router(kernel),
                prefix=f"/api/{domain.name}",
                dependencies=[Depends(domain_guard(domain))],
            )
    # The web layer sits on top of the API; it is optional so the API runs headless.
    try:
        pages = importlib.import_module("cityops.web.pages")
    except ModuleNotFoundError:
        log.warning("cityops.web is not installed: serving the API only")
    else:
        pages.mount(app, kernel.domains)
    return app
