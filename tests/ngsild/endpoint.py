"""A subscriber's HTTP endpoint on loopback (a real http.server in a thread) for notification tests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


class Endpoint:
    """A subscriber's HTTP endpoint: records each notification; answers 500 to the first `failing`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.failing = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if endpoint.failing > 0:
                    endpoint.failing -= 1
                    self.send_response(500)
                else:
                    endpoint.received.append(orjson.loads(body))
                    endpoint.headers.append(dict(self.headers))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/notify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def data(self) -> list[dict[str, Any]]:
        return [entity for notification in self.received for entity in notification["data"]]
