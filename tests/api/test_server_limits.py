"""The server's own limits, over raw sockets on loopback: a client that sends its headers slowly
(slowloris) is cut off after the header timeout, oversized headers get 431, and past the connection
limit new requests get 503 instead of a file descriptor each."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from cityops.api.server import server_config
from cityops.config import ServerSettings

from ..conftest import free_port, wait_for

LIMITS = ServerSettings(header_timeout_seconds=1.5, max_header_bytes=8192, max_connections=10)


@pytest.fixture
def guarded(app: FastAPI) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, LIMITS, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for("the server", lambda: server.started, timeout=15)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_a_slow_client_is_cut_off_after_the_header_timeout(guarded: int) -> None:
    with socket.create_connection(("127.0.0.1", guarded), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/meta HTTP/1.1\r\nHost: x\r\n")
        try:
            for n in range(20):  # one header line a second, never the blank line that ends them
                time.sleep(0.5)
                sock.sendall(b"X-Slow-%d: y\r\n" % n)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(5)
        try:
            rest = sock.recv(4096)
        except ConnectionResetError:
            rest = b""
        elapsed = time.monotonic() - started
    assert rest == b"", rest[:200]
    assert elapsed < LIMITS.header_timeout_seconds + 4, f"held {elapsed:.1f} s"


def test_an_idle_connection_that_never_speaks_is_closed(guarded: int) -> None:
    with socket.create_connection(("127.0.0.1", guarded), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - started < LIMITS.header_timeout_seconds + 2


def test_headers_past_the_limit_get_431(guarded: int) -> None:
    with socket.create_connection(("127.0.0.1", guarded), timeout=10) as sock:
        sock.sendall(b"GET /api/meta HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 431")


def test_past_the_connection_limit_requests_get_503(guarded: int) -> None:
    held = [
        socket.create_connection(("127.0.0.1", guarded), timeout=10) for _ in range(LIMITS.max_connections)
    ]
    try:
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", guarded), timeout=10) as sock:
            sock.sendall(b"GET /api/translations/vi HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 503")
    finally:
        for sock in held:
            sock.close()

    # Once they are gone, requests are served again.
    def served() -> bool:
        with socket.create_connection(("127.0.0.1", guarded), timeout=10) as sock:
            sock.sendall(b"GET /api/translations/vi HTTP/1.1\r\nHost: x\r\n\r\n")
            return sock.recv(4096).startswith(b"HTTP/1.1 200")

    assert wait_for("service again", served, timeout=10, every_s=0.3)
