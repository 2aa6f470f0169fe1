"""Migration 0002 creates exactly the operations tables declared in `schema_operations`, and goes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from cityops.core import schema_operations
from cityops.core.schema import metadata
from cityops.core.store import MIGRATIONS, open_engine, upgrade

OPERATIONS_TABLES = {"alert_rules", "alerts", "incidents", "incident_history", "incident_attachments"}


def test_upgrade_matches_the_declared_tables_and_downgrade_removes_them(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= OPERATIONS_TABLES
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    config.set_main_option("path_separator", "space")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert not OPERATIONS_TABLES & set(inspect(engine).get_table_names())


def test_the_store_refuses_a_second_open_alert_for_the_same_rule_and_source(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'unique.sqlite'}")
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
    with pytest.raises(IntegrityError, match="UNIQUE"), engine.begin() as conn:
        conn.execute(insert(schema_operations.alerts).values(**row))
