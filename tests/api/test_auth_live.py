"""Signing in for the live feed over a real server (an EventSource sends cookies, not headers), and the
read-only anonymous viewer of `auth_required = false`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from cityops.api.app import create_app
from cityops.api.live import RECHECK_SECONDS
from cityops.config import Settings
from cityops.core.access.accounts import Role
from cityops.core.kernel import Kernel

HeadersFor = Callable[..., dict[str, str]]


def first_event(
    base: str, headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None
) -> str:
    """The first SSE event name, or the HTTP status when the feed is refused."""
    with (
        httpx.Client(base_url=base, timeout=10, headers=headers, cookies=cookies) as client,
        client.stream("GET", "/api/live") as stream,
    ):
        if stream.status_code != 200:
            return str(stream.status_code)
        for line in stream.iter_lines():
            if line.startswith("event:"):
                return line.split(":", 1)[1].strip()
    return "closed"


def test_the_live_feed_needs_a_person(live_server: str, headers_for: HeadersFor) -> None:
    assert first_event(live_server) == "401"
    assert first_event(live_server, headers_for(Role.DEVICE)) == "403"
    assert first_event(live_server, headers_for(Role.LEADER)) == "hello"


def test_a_signed_in_page_reads_the_feed_with_its_cookies(
    live_server: str, session_cookies: list[dict[str, str]]
) -> None:
    assert {c["name"] for c in session_cookies} == {"cityops_session", "cityops_csrf"}
    assert first_event(live_server, cookies={c["name"]: c["value"] for c in session_cookies}) == "hello"


def test_without_required_sign_in_anonymous_visitors_read_but_never_change(
    kernel: Kernel, settings: Settings
) -> None:
    app = create_app(kernel, settings.model_copy(update={"auth_required": False}))
    with TestClient(app) as client:
        assert client.get("/api/meta").status_code == 200
        assert client.get("/api/entities").status_code == 200
        me = client.get("/api/auth/me").json()
        assert (me["anonymous"], me["role"], me["via"]) == (True, "leader", "anonymous")
        entity = {"id": "urn:ngsi-ld:Camera:anon", "name": "x", "location": None}
        assert client.post("/api/entities", json=entity).status_code == 401
        assert client.post("/api/ingest", json={"points": []}).status_code == 401
        assert client.get("/api/users").status_code == 401
        assert client.get("/api/audit").status_code == 401
        assert client.get("/api/tokens").status_code == 401


def read_until_closed(
    base: str, headers: dict[str, str], names: list[str], connected: threading.Event
) -> None:
    with (
        httpx.Client(base_url=base, timeout=30, headers=headers) as client,
        client.stream("GET", "/api/live") as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("event:"):
                names.append(line.split(":", 1)[1].strip())
                connected.set()
    names.append("closed")


def test_the_feed_closes_when_its_token_is_revoked(live_server: str, auth_headers: dict[str, str]) -> None:
    issued = httpx.post(f"{live_server}/api/tokens", json={"name": "wall screen"}, headers=auth_headers)
    secret, token_id = issued.json()["token"], issued.json()["id"]
    names: list[str] = []
    connected = threading.Event()
    reader = threading.Thread(
        target=read_until_closed,
        args=(live_server, {"Authorization": f"Bearer {secret}"}, names, connected),
        daemon=True,
    )
    reader.start()
    assert connected.wait(10) and names == ["hello"]
    assert httpx.delete(f"{live_server}/api/tokens/{token_id}", headers=auth_headers).status_code == 200
    started = time.monotonic()
    reader.join(timeout=RECHECK_SECONDS * 4)
    assert names == ["hello", "signed-out", "closed"], names
    assert time.monotonic() - started <= RECHECK_SECONDS * 3


def test_the_feed_closes_when_its_session_logs_out(
    live_server: str, session_cookies: list[dict[str, str]]
) -> None:
    cookies = {c["name"]: c["value"] for c in session_cookies}
    cookie_header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    names: list[str] = []
    connected = threading.Event()
    reader = threading.Thread(
        target=read_until_closed, args=(live_server, cookie_header, names, connected), daemon=True
    )
    reader.start()
    assert connected.wait(10)
    logout = httpx.post(
        f"{live_server}/api/auth/logout", headers={**cookie_header, "X-CSRF-Token": cookies["cityops_csrf"]}
    )
    assert logout.status_code == 204
    reader.join(timeout=RECHECK_SECONDS * 4)
    assert names == ["hello", "signed-out", "closed"], names
