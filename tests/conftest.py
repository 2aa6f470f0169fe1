"""Fixtures shared by every test folder: a kernel on a fresh SQLite file, and a real HTTP server.

Every test database holds an admin account `test-admin` with an API token: `client` sends it, and
`auth_headers` gives it to tests that talk to `live_server` themselves. A browser test signs in with
`session_cookies` (Playwright: `context.add_cookies(session_cookies)`) or through the page with
`browser_account` (an operator's username and password). `browser` is Debian's Chromium (one Playwright
per test module), `vendor_files` the set-up's copy of MapLibre and ECharts, `api` a GET on `live_server`
as `test-admin`.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Playwright, sync_playwright
from sqlalchemy.engine import make_url

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.access.tokens import issue_token
from cityops.core.kernel import Kernel
from cityops.core.local_postgres import LocalPostgres
from cityops.core.store import write_transaction
from cityops.web import vendor

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / "node_modules"
TEST_ADMIN = "test-admin"
CHROMIUM = Path("/usr/bin/chromium")
BACKENDS = ("sqlite", "postgresql")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # WebGL without a GPU: MapLibre draws through ANGLE's software renderer.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=BACKENDS,
        default=os.environ.get("CITYOPS_TEST_DATABASE", "sqlite"),
        help="the store the `database_url` and `kernel` fixtures use: sqlite (a file per test) or "
        "postgresql (a throw-away cluster on loopback, a database per test); env CITYOPS_TEST_DATABASE",
    )


# A test that asks for one of these touches the store, so it runs on every backend; the others run
# once, on the default run (SQLite).
STORE_FIXTURES = frozenset(("databases", "database_url", "template_db"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--database") == "sqlite":
        return
    kept = [item for item in items if STORE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: which store this run tests (`--database`)."""
    return str(request.config.getoption("--database"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """One throw-away PostgreSQL cluster for the session, started on first use."""
    server = LocalPostgres.start()
    yield server
    server.stop()


@dataclass
class Databases:
    """Makes empty databases of the backend under test: a file on SQLite, a database of the session's
    cluster on PostgreSQL; `template` (a URL this made) is copied instead when given."""

    prefix: str
    folder: Path
    server: LocalPostgres | None
    made: list[str] = field(default_factory=list)

    def new(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.made) + 1}"
        if self.server is None:
            path = self.folder / f"{name}.sqlite"
            if template:
                shutil.copy(make_url(template).database or "", path)
            url = f"sqlite:///{path}"
        else:
            url = self.server.create_database(name, make_url(template).database if template else None)
        self.made.append(url)
        return url

    def drop_all(self) -> None:
        if self.server is not None:
            for url in self.made:
                self.server.drop_database(make_url(url).database or "")


DATABASE_PREFIXES = itertools.count(1)


def make_databases(backend: str, request: pytest.FixtureRequest, folder: Path) -> Databases:
    server = request.getfixturevalue("postgres_server") if backend == "postgresql" else None
    return Databases(f"t{next(DATABASE_PREFIXES)}", folder, server)


@pytest.fixture(scope="session")
def session_databases(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Databases:
    return make_databases(backend, request, tmp_path_factory.mktemp("session"))


@pytest.fixture(scope="session")
def template_db(session_databases: Databases) -> str:
    """URL of a database migrated and loaded once per session; each test gets its own copy."""
    url = session_databases.new()
    kernel = Kernel.open(url, node_modules=NODE_MODULES)
    with kernel.engine.begin() as conn:
        create_user(conn, NewUser(TEST_ADMIN, Role.ADMIN), actor="tests")
        issued = issue_token(conn, "tests", "user", TEST_ADMIN, actor="tests")
    TEMPLATE_SECRETS[url] = issued.secret
    kernel.engine.dispose()
    return url


TEMPLATE_SECRETS: dict[str, str] = {}


@pytest.fixture(scope="session")
def admin_token(template_db: str) -> str:
    """The API token of `test-admin`, present in every test database."""
    return TEMPLATE_SECRETS[template_db]


@pytest.fixture
def auth_headers(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def databases(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """Empty databases of the backend under test, dropped after the test."""
    made = make_databases(backend, request, tmp_path)
    yield made
    made.drop_all()


@pytest.fixture
def database_url(template_db: str, databases: Databases) -> str:
    """A database of the backend under test, migrated, with `test-admin` and reference areas."""
    return databases.new(template_db)


# What a plain client of either store raises when the database refuses a statement.
DRIVER_ERRORS = (sqlite3.DatabaseError, psycopg.Error)


def driver_connection(url: str) -> Any:
    """A plain DB-API connection (autocommit) to `url`, past cityops and SQLAlchemy: any client."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite3.connect(parsed.database or "", isolation_level=None)
    return psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, dbname=parsed.database, autocommit=True
    )


@pytest.fixture
def stored_bytes(backend: str, request: pytest.FixtureRequest) -> Callable[[str], bytes]:
    """Every byte the store keeps on disk for the database at a URL (SQLite: the file and its WAL;
    PostgreSQL: the database's folder and the cluster's write-ahead log)."""

    def read(url: str) -> bytes:
        parsed = make_url(url)
        if backend == "sqlite":
            path = Path(parsed.database or "")
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        else:
            server: LocalPostgres = request.getfixturevalue("postgres_server")
            with server.connect() as conn:
                row = conn.execute(
                    "SELECT oid FROM pg_database WHERE datname = %s", [parsed.database]
                ).fetchone()
            assert row is not None
            files = [
                *(server.data_dir / "base" / str(row[0])).iterdir(),
                *(server.data_dir / "pg_wal").iterdir(),
            ]
        return b"".join(path.read_bytes() for path in files if path.is_file())

    return read


@pytest.fixture
def kernel(database_url: str) -> Iterator[Kernel]:
    kernel = Kernel.open(database_url, node_modules=NODE_MODULES)
    kernel.load_samples()
    yield kernel
    kernel.stop_domains()  # an app built on it and never started still set its domains up
    kernel.engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, node_modules=NODE_MODULES)


@pytest.fixture
def app(kernel: Kernel, settings: Settings) -> FastAPI:
    return create_app(kernel, settings)


@pytest.fixture
def client(app: FastAPI, auth_headers: dict[str, str]) -> Iterator[TestClient]:
    """A client signed in as `test-admin` (bearer token); delete its `Authorization` header to be nobody."""
    with TestClient(app, headers=auth_headers) as test_client:
        yield test_client


HeadersFor = Callable[..., dict[str, str]]


@pytest.fixture
def headers_for(kernel: Kernel) -> HeadersFor:
    """`headers_for(role, agency_code=None, area_codes=())`: the `Authorization` header of a new account
    with that role (token-only, so no password hashing), or of a new device token."""
    serial = count(1)

    def make(role: Role, agency_code: str | None = None, area_codes: tuple[str, ...] = ()) -> dict[str, str]:
        name = f"{role.value.replace('_', '-')}-{next(serial)}"
        # BEGIN IMMEDIATE: a server under test may be writing (a deferred read-then-write would fail).
        with write_transaction(kernel.engine) as conn:
            if role is Role.DEVICE:
                issued = issue_token(conn, name, "device", None, actor="tests")
            else:
                create_user(
                    conn, NewUser(name, role, agency_code=agency_code, area_codes=area_codes), "tests"
                )
                issued = issue_token(conn, "tests", "user", name, actor="tests")
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


@pytest.fixture
def node_modules() -> Path:
    return NODE_MODULES


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture(autouse=True)
def wifi_files_of_this_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app a test builds runs the wifi domain's accounting reader: give it this test's own spool and
    hash key, never the working directory's var/ that other tests' apps read at the same time."""
    monkeypatch.setenv("CITYOPS_WIFI_DETAIL_SPOOL", str(tmp_path / "wifi-spool"))
    monkeypatch.setenv("CITYOPS_WIFI_HASH_KEY_FILE", str(tmp_path / "wifi-hash.key"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float, every_s: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy (returned), or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what}")


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


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: Role


@pytest.fixture
def browser_account(kernel: Kernel) -> Account:
    """An operator account with a known password, to sign in through the page."""
    account = Account("browser-operator", secrets.token_urlsafe(16), Role.OPERATOR)
    with kernel.engine.begin() as conn:
        create_user(conn, NewUser(account.username, account.role, password=account.password), actor="tests")
    return account


@pytest.fixture
def session_cookies(live_server: str, browser_account: Account) -> list[dict[str, str]]:
    """The cookies of a signed-in web session of `browser_account` on `live_server`, in Playwright's
    shape: `context.add_cookies(session_cookies)`; unsafe requests also need the `cityops_csrf` cookie's
    value in the `X-CSRF-Token` header."""
    response = httpx.post(
        f"{live_server}/api/auth/login",
        json={"username": browser_account.username, "password": browser_account.password},
    )
    response.raise_for_status()
    return [{"name": name, "value": value, "url": live_server} for name, value in response.cookies.items()]


@dataclass
class FeedListener:
    """Reads `/api/live` in a thread; `hello` is set once connected, `done` once `until` says so."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hello: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


Until = Callable[[str, dict[str, Any]], bool]


@pytest.fixture
def feed_listener() -> Callable[[str, dict[str, str], Until], FeedListener]:
    def start(base: str, headers: dict[str, str], until: Until) -> FeedListener:
        listener = FeedListener()

        def listen() -> None:
            with (
                httpx.Client(base_url=base, timeout=10, headers=headers) as client,
                client.stream("GET", "/api/live") as stream,
            ):
                name = ""
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        name = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        data = orjson.loads(line[5:])
                        listener.events.append((name, data))
                        if name == "hello":
                            listener.hello.set()
                        if until(name, data):
                            listener.done.set()
                            return

        threading.Thread(target=listen, daemon=True).start()
        assert listener.hello.wait(5), "the live feed did not say hello"
        return listener

    return start


@pytest.fixture
def vendor_files(node_modules: Path) -> None:
    """Set-up's copy of MapLibre and ECharts; made here when a checkout has not run `make setup` yet."""
    if not all((vendor.VENDOR_DIR / file.target).is_file() for file in vendor.FILES):
        vendor.copy_vendor_files(node_modules)


# Module scope, not session: Playwright's sync API keeps its event loop marked as running in the main
# thread while it is open, and tests after the browser ones call `asyncio.run`.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make apt-test` installs Debian's chromium")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def api(live_server: str, auth_headers: dict[str, str]) -> Callable[..., Any]:
    """GET on the live server as `test-admin`: what the page should be showing."""

    def get(path: str, **params: str) -> Any:
        response = httpx.get(f"{live_server}{path}", params=params, headers=auth_headers, timeout=10)
        response.raise_for_status()
        return response.json()

    return get
