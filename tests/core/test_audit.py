"""The audit log: entries read back newest first with their before/after JSON; the store itself refuses
UPDATE, DELETE (and TRUNCATE on PostgreSQL; triggers of migration 0003), whichever client connects; an entry commits or rolls back
with the change it records; migration 0003 matches the declared tables and goes back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, func, inspect, select, text, update
from sqlalchemy.exc import DatabaseError

from cityops.core import audit
from cityops.core.access.schema import audit_log, users
from cityops.core.observation_partitions import not_a_partition
from cityops.core.schema import metadata
from cityops.core.store import MIGRATIONS, open_engine, upgrade

from ..conftest import DRIVER_ERRORS, driver_connection

ACCESS_TABLES = {"users", "api_tokens", "sessions", "audit_log"}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


def test_entries_read_back_newest_first_with_filters(engine: Engine) -> None:
    with engine.begin() as conn:
        audit.record(conn, "an", "incident.create", "incident:1", None, {"title": "Ngập"}, ts_ms=1_000)
        audit.record(
            conn,
            "binh",
            "incident.transition",
            "incident:1",
            {"state": "new"},
            {"state": "acknowledged", "at": datetime(2026, 11, 23, tzinfo=UTC), "tags": {"b", "a"}},
            ts_ms=2_000,
        )
        audit.record(conn, "an", "rule.delete", "rule:busy_1", {"id": "busy_1"}, None, ts_ms=3_000)
        total, items = audit.read(conn, audit.AuditFilter(object="incident:1"))
        assert total == 2 and [e["action"] for e in items] == ["incident.transition", "incident.create"]
        assert items[0]["after"] == {
            "state": "acknowledged",
            "at": datetime(2026, 11, 23, tzinfo=UTC).isoformat(),
            "tags": ["a", "b"],
        }
        assert (
            audit.read(conn, audit.AuditFilter(actor="an", since_ms=2_000))[1][0]["object"] == "rule:busy_1"
        )
        # `_` and `%` in a prefix are literal characters, not wildcards.
        assert audit.read(conn, audit.AuditFilter(object_prefix="rule:busy_"))[0] == 1
        assert audit.read(conn, audit.AuditFilter(object_prefix="rule:busy%"))[0] == 0
        assert audit.read(conn, audit.AuditFilter(until_ms=1_001))[0] >= 1


def test_the_store_refuses_to_update_or_delete_entries(engine: Engine, database_url: str) -> None:
    with engine.begin() as conn:
        entry = audit.record(conn, "an", "user.create", "user:x", None, {"role": "leader"})
    for statement in (
        update(audit_log).where(audit_log.c.id == entry).values(actor="someone else"),
        delete(audit_log).where(audit_log.c.id == entry),
        delete(audit_log),
    ):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    # Not only through cityops: any client of the file is refused.
    raw = driver_connection(database_url)
    statements = ["UPDATE audit_log SET after = NULL", "DELETE FROM audit_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DRIVER_ERRORS, match="append-only"):
            raw.execute(statement)
    raw.close()
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.actor).where(audit_log.c.id == entry)).scalar_one() == "an"


def test_an_entry_rolls_back_with_the_change_it_records(engine: Engine) -> None:
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(update(users).values(display_name="changed"))
        audit.record(
            conn, "an", "user.update", "user:test-admin", {"display_name": ""}, {"display_name": "changed"}
        )
        raise RuntimeError("the change failed after its entry was written")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == before
        assert set(conn.execute(select(users.c.display_name)).scalars()) == {""}


def test_migration_0003_matches_the_tables_and_goes_back(databases: Any) -> None:
    engine = open_engine(databases.new())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= ACCESS_TABLES
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_a_partition})
        assert compare_metadata(context, metadata) == []
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            expected = {"audit_log_no_UPDATE", "audit_log_no_DELETE"}
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            expected = {"audit_log_append_only"}
        triggers = conn.execute(text(query)).scalars().all()
    assert set(triggers) >= expected
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    config.set_main_option("path_separator", "space")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    assert not ACCESS_TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= ACCESS_TABLES
    engine.dispose()
