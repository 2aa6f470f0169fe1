"""Authenticating only reads the store: while another connection holds SQLite's write lock (a big
ingestion batch), token- and cookie-authenticated reads still answer at once; when tokens were last used
and sessions last seen is written afterwards, in the background."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from tests.conftest import HeadersFor

from cityops.core.access.accounts import Role
from cityops.core.access.schema import api_tokens
from cityops.core.kernel import Kernel
from cityops.core.store import open_engine, write_transaction

from .conftest import PASSWORD


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another writer in the middle of a long transaction: it holds the store's write lock (SQLite's
    BEGIN IMMEDIATE, PostgreSQL's advisory lock, as `write_transaction` takes them) and a written row."""
    engine = open_engine(database_url)
    try:
        with write_transaction(engine) as writer:
            writer.execute(text("UPDATE users SET updated_ms = updated_ms"))
            yield
            writer.rollback()
    finally:
        engine.dispose()


def test_token_reads_do_not_wait_for_a_writer(
    client: TestClient, kernel: Kernel, database_url: str, headers_for: HeadersFor
) -> None:
    del client.headers["Authorization"]
    fresh = headers_for(Role.OPERATOR)  # never used: its first use is noted
    with write_lock_held(database_url):
        started = time.monotonic()
        answers = [client.get("/api/auth/me", headers=fresh).status_code for _ in range(5)]
        elapsed = time.monotonic() - started
    assert answers == [200] * 5
    assert elapsed < 3.0, f"5 token-authenticated reads took {elapsed:.1f} s behind a writer"
    client.app.state.usage.flush(kernel.engine)  # type: ignore[attr-defined]
    secret = fresh["Authorization"].removeprefix("Bearer ")
    with kernel.engine.connect() as conn:
        used = conn.execute(select(api_tokens.c.last_used_ms).where(api_tokens.c.prefix == secret[:12])).one()
    assert used.last_used_ms is not None


def test_cookie_reads_do_not_wait_for_a_writer(
    client: TestClient, database_url: str, make_account: Callable[..., str]
) -> None:
    del client.headers["Authorization"]
    make_account("night.shift")
    login = client.post("/api/auth/login", json={"username": "night.shift", "password": PASSWORD})
    assert login.status_code == 200
    with write_lock_held(database_url):
        started = time.monotonic()
        answers = [client.get("/api/auth/me").json()["via"] for _ in range(5)]
        elapsed = time.monotonic() - started
    assert answers == ["session"] * 5
    assert elapsed < 3.0, f"5 cookie-authenticated reads took {elapsed:.1f} s behind a writer"
