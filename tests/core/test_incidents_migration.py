"""Migration 0002 creates exactly the operations tables declared in `schema_operations`, and goes back
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from cityops.core import schema_operations
from cityops.core.observation_partitions import not_a_partition
from cityops.core.schema import metadata
from cityops.core.store import MIGRATIONS, open_engine, upgrade

OPERATIONS_TABLES = {"alert_rules", "alerts", "incidents", "incident_history", "incident_attachments"}


def test_upgrade_matches_the_declared_tables_and_downgrade_removes_them(databases: Any) -> None:
    engine = open_engine(databases.new())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= OPERATIONS_TABLES
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_a_partition})
        differences = compare_metadata(context, metadata)
    assert differences == []
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    config.set_main_option("path_separator", "space")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert not OPERATIONS_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_store_refuses_a_second_open_alert_for_the_same_rule_and_source(databases: Any) -> None:
    # Partial unique index: any number of cleared alerts, one open (SQLite and PostgreSQL alike).
    engine = open_engine(databases.new())
    upgrade(engine)
    row = {
        "rule_id": "r",
        "source": "urn:ngsi-ld:Camera:x",
        "source_name": "x",
        "severity": "low",
        "category": "traffic",
        "title": {"vi": "x"},
        "description": {"vi": "x"},
        "raised_ms": 1,
    }
    with engine.begin() as conn:
        conn.execute(insert(schema_operations.alerts).values(**row, cleared_ms=2))
        conn.execute(insert(schema_operations.alerts).values(**row))
        conn.execute(insert(schema_operations.alerts).values(**row, cleared_ms=3))
    with pytest.raises(IntegrityError, match=r"(?i)unique"), engine.begin() as conn:
        conn.execute(insert(schema_operations.alerts).values(**row))
    engine.dispose()
