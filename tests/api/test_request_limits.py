"""Every request body is limited before it is read: a declared Content-Length past the limit is refused
before a byte of the body arrives, a chunked body as soon as it passes the limit; and a 422 never echoes
what was sent."""

from __future__ import annotations

import select
import socket
import time
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from cityops.config import Settings

MIB = 1024 * 1024


def test_login_and_json_bodies_past_the_limit_get_413(client: TestClient) -> None:
    """A declared size past the limit and a streamed one both get a JSON refusal naming the limit."""
    limit = Settings().max_request_bytes
    del client.headers["Authorization"]
    body = b'{"username": "a", "password": "' + b"x" * limit + b'"}'
    for path in ("/api/auth/login", "/api/rules", "/api/entities"):
        declared = client.post(path, content=body, headers={"content-type": "application/json"})
        streamed = client.post(path, content=iter([body]), headers={"content-type": "application/json"})
        for response in (declared, streamed):
            assert response.status_code == 413, (path, response.text[:200])
            assert response.headers["content-type"] == "application/json", path
            assert response.headers["x-content-type-options"] == "nosniff", path
            (error,) = response.json()["detail"]
            assert error["field"] == "body" and str(limit) in error["msg"] and error["limit"] == limit


def test_a_chunked_body_is_cut_off_at_the_limit(live_server: str) -> None:
    """Over a real server: the refusal comes as soon as the streamed body passes the limit, not after it
    was all read (64 MiB would be sent otherwise; loopback buffers hold a few MiB)."""
    address = urlsplit(live_server)
    assert address.hostname is not None and address.port is not None
    chunk = b"x" * (256 * 1024)
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        while sent < 64 * MIB and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert sent < 16 * MIB, f"{sent / MIB:.0f} MiB were sent before the refusal"


def test_routes_that_take_more_declare_it(client: TestClient) -> None:
    """Ingestion takes up to `max_body_bytes`; an attachment up to 10 MiB: neither stops at the default."""
    points = b"\n".join(
        b'{"entity": "urn:ngsi-ld:Camera:tdm-001", "metric": "intensity", "time": %d, "value": 1}'
        % (1_790_000_000_000 + n)
        for n in range(30_000)
    )
    assert len(points) > Settings().max_request_bytes
    answer = client.post("/api/ingest", content=points, headers={"content-type": "application/x-ndjson"})
    assert answer.status_code == 202, answer.text[:300]


def test_a_declared_size_past_the_limit_is_refused_before_the_body_is_sent(live_server: str) -> None:
    address = urlsplit(live_server)
    assert address.hostname is not None and address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 300000000\r\n\r\n"
        )
        started = time.monotonic()
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"content-type: application/json" in head.lower(), head[:400]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/login", {"username": "u" * 200_000, "password": "p"}),
        ("/api/auth/login", {"username": ["x" * 100_000], "password": {"a": "y" * 100_000}}),
        ("/api/entities", {"id": "urn:ngsi-ld:Camera:x", "name": "n", "location": "z" * 300_000}),
    ],
)
def test_a_422_never_echoes_the_input(client: TestClient, path: str, body: object) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == 422
    assert len(answer.content) < 2000, answer.content[:300]
    for error in answer.json()["detail"]:
        assert "input" not in error and {"loc", "msg", "type"} <= error.keys()
