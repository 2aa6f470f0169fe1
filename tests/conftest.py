"""Fixtures shared by every test folder: a kernel on a fresh SQLite file, and a real HTTP server."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.kernel import Kernel

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / "node_modules"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and loaded once per session; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "cityops.sqlite"
    kernel = Kernel.open(f"sqlite:///{path}", node_modules=NODE_MODULES)
    kernel.engine.dispose()
    return path


@pytest.fixture
def database_url(template_db: Path, tmp_path: Path) -> str:
    path = tmp_path / "cityops.sqlite"
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def kernel(database_url: str) -> Iterator[Kernel]:
    kernel = Kernel.open(database_url, node_modules=NODE_MODULES)
    kernel.load_samples()
    yield kernel
    kernel.engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, node_modules=NODE_MODULES)


@pytest.fixture
def app(kernel: Kernel, settings: Settings) -> FastAPI:
    return create_app(kernel, settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def node_modules() -> Path:
    return NODE_MODULES


@pytest.fixture
def unused_port() -> int:
    return free_port()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn on a loopback port, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
