"""The HTTP server's own limits, so slow or greedy clients cannot exhaust connections or memory.

uvicorn bounds idle keep-alive connections (`timeout_keep_alive`) and open connections plus running
requests (`limit_concurrency`: past it, 503), but it waits forever for a request's headers. The protocol
here (uvicorn's httptools protocol) closes a connection whose request line and headers have not all
arrived `header_timeout_seconds` after it opened or after its previous response (slowloris), and one
whose request line and headers pass `max_header_bytes`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cityops.config import ServerSettings


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout = 10.0
    max_header_bytes = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def _arm(self) -> None:
        self._disarm()
        self._header_bytes = 0
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._disarm()
            self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\r\n")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_deadline is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()


def server_config(
    app: FastAPI, host: str, port: int, limits: ServerSettings, **options: Any
) -> uvicorn.Config:
    """uvicorn's configuration for `app` with the limits of `limits`."""
    protocol = type(
        "GuardedHttp",
        (GuardedHttpProtocol,),
        {"header_timeout": limits.header_timeout_seconds, "max_header_bytes": limits.max_header_bytes},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive_seconds,
        **options,
    )
