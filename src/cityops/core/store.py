"""The store: one SQLAlchemy engine, SQLite in WAL mode by default or PostgreSQL (psycopg 3), schema
managed by Alembic."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling commits on a bare SAVEPOINT/RELEASE; let SQLAlchemy emit
    # BEGIN itself so a batch and its savepoints stay in one transaction (SQLAlchemy's pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives a process crash; only a power loss can
    # lose the last commits, never corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_LOCK) else "BEGIN")


def _postgresql_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(WRITE_LOCK):
        # Released by the transaction's commit or rollback.
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


WRITE_LOCK = "cityops_write_lock"
# The advisory lock every write transaction takes on PostgreSQL (any number: it only names the lock).
WRITE_LOCK_KEY = 0x6369_7479


def write_transaction(engine: Engine) -> AbstractContextManager[Connection]:
    """A transaction that will write, one at a time: SQLite's write lock taken at BEGIN (BEGIN IMMEDIATE,
    waiting up to the busy timeout) rather than at its first write, or on PostgreSQL one advisory lock
    shared by every server, taken at the start. A transaction that reads and then writes what it read
    (a counter, a state machine's move) then never interleaves with another: on SQLite the deferred
    one fails at once with "database is locked", on PostgreSQL READ COMMITTED would lose an update.
    Readers take no lock and never wait for writers. The bulk paths (observations, services import)
    do not take it on PostgreSQL: their statements are safe side by side."""
    return engine.execution_options(**{WRITE_LOCK: True}).begin()


def open_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_pre_ping=True)
    if url.get_backend_name() == "postgresql":
        event.listen(engine, "begin", _postgresql_begin)
    return engine


def upgrade(engine: Engine, version_locations: list[Path] | None = None) -> None:
    """Bring the schema to the newest revision of the kernel and of every domain that ships migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    locations = [MIGRATIONS / "versions", *(version_locations or [])]
    config.set_main_option("version_locations", " ".join(str(p) for p in locations))
    config.set_main_option("path_separator", "space")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
