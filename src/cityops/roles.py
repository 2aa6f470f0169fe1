"""The processes of a cluster (`cityops serve --role …` with `bus_url` set):

- `api`: the HTTP API, live feed and dashboard; queues ingested batches on JetStream (202 once stored
  there) and evaluates no rules;
- `recorder`: stores queued batches and announces them on the bus;
- `rules`: evaluates the rules on recorded events, runs the rule and incident timers;
- `all`: the three in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the command line imports this module for `Role` alone
    from cityops.backends.jetstream import JetStreamBus
    from cityops.config import Settings
    from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 60.0


class Role(StrEnum):
    API = "api"
    RECORDER = "recorder"
    RULES = "rules"
    ALL = "all"


def open_cluster_kernel(settings: Settings, role: Role) -> tuple[Kernel, JetStreamBus]:
    from cityops.backends.jetstream import BusSettings, JetStreamBus
    from cityops.core.kernel import Kernel

    assert settings.bus_url is not None
    bus = JetStreamBus(BusSettings(servers=settings.bus_url.split(","), replicas=settings.bus_replicas))
    kernel = Kernel.open(
        settings.database_url,
        settings.domains,
        settings.node_modules,
        bus=bus,
        simulated=settings.simulate,
        queue=bus if role in (Role.API, Role.ALL) else None,
        evaluates=role in (Role.RULES, Role.ALL),
    )
    return kernel, bus


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())


async def run_role(settings: Settings, role: Role, kernel: Kernel, bus: JetStreamBus) -> None:
    """Run until SIGINT or SIGTERM."""
    import uvicorn

    from cityops.api.app import create_app
    from cityops.backends.jetstream import wait_connected
    from cityops.backends.recorder import Recorder

    await wait_connected(bus, CONNECT_TIMEOUT_S)
    print(f"Đã kết nối bus / bus connected: {role}", flush=True)
    jobs: list[Coroutine[Any, Any, None]] = []
    if role in (Role.RECORDER, Role.ALL):
        jobs.append(Recorder(kernel, bus).run())
    server: uvicorn.Server | None = None
    if role in (Role.API, Role.ALL):
        config = uvicorn.Config(
            create_app(kernel, settings), host=settings.host, port=settings.port, log_level="warning"
        )
        server = uvicorn.Server(config)
    tasks = [asyncio.create_task(job) for job in jobs]
    for task in tasks:
        task.add_done_callback(_report_failure)
    if role is Role.RULES:
        kernel.rules.configure(settings.rules)
        kernel.incidents.configure(settings.incidents)
        kernel.setup_domains()
        tasks.extend(await kernel.start_evaluation())
    try:
        if server is not None:
            await server.serve()  # returns on SIGINT/SIGTERM (uvicorn handles them)
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if role is Role.RULES:
            await asyncio.to_thread(kernel.stop_domains)
        await kernel.close()
