"""The processes of a cluster (`cityops serve --role …` with `bus_url` set):

- `api`: the HTTP API, live feed and dashboard; queues ingested batches on JetStream (202 once stored
  there) and evaluates no rules;
- `recorder`: stores queued batches and announces them on the bus;
- `rules`: evaluates the rules on recorded events, runs the rule and incident timers;
- `all`: the three in one process.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the command line imports this module for `Role` alone
    from cityops.backends.jetstream import JetStreamBus
    from cityops.config import Settings
    from cityops.core.kernel import Kernel

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
    kernel.follow_cluster()
    return kernel, bus


class RoleFailed(RuntimeError):
    """A part of the process stopped on an error: the process exits so its supervisor restarts it."""


async def run_role(settings: Settings, role: Role, kernel: Kernel, bus: JetStreamBus) -> None:
    """Run until SIGINT or SIGTERM, or until a part fails (`RoleFailed`)."""
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
        jobs.append(server.serve())  # uvicorn answers SIGINT/SIGTERM itself by returning
    else:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        jobs.append(stop.wait())  # type: ignore[arg-type]
    tasks = [asyncio.create_task(job) for job in jobs]
    if role is Role.RULES:
        kernel.rules.configure(settings.rules)
        kernel.incidents.configure(settings.incidents)
        kernel.setup_domains()
        tasks.extend(await kernel.start_evaluation())
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        failed = [task for task in done if task.exception() is not None]
        if failed:
            raise RoleFailed(f"{role}: {failed[0].get_name()} failed") from failed[0].exception()
    finally:
        if server is not None:
            server.should_exit = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if role is Role.RULES:
            await asyncio.to_thread(kernel.stop_domains)
        await kernel.close()
