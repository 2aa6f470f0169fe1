"""Kernel tables (SQLAlchemy Core). Alembic migrations in `core/migrations` create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

areas = Table(
    "areas",
    metadata,
    Column("code", String(32), primary_key=True, comment="'<scheme>:<official code>', e.g. 'legacy:25741'"),
    Column("scheme", String(16), nullable=False, comment="'legacy' (before 1 July 2025) or '2025'"),
    Column("level", String(16), nullable=False, comment="province, district or ward"),
    Column("official_code", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("parent_code", String(32), ForeignKey("areas.code"), nullable=True),
    Column("valid_from", String(10), nullable=True),
    Column("valid_to", String(10), nullable=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("geometry", JSON, nullable=True, comment="GeoJSON geometry"),
    Column("approximate", Boolean, nullable=False, default=False),
    Column("properties", JSON, nullable=False, default=dict),
)

area_mappings = Table(
    "area_mappings",
    metadata,
    Column("old_code", String(32), ForeignKey("areas.code"), primary_key=True),
    Column("new_code", String(32), ForeignKey("areas.code"), primary_key=True),
    Column("is_default", Boolean, nullable=False, default=True),
)

entities = Table(
    "entities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("urn", String(200), nullable=False, unique=True),
    Column("type", String(64), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("area_code", String(32), ForeignKey("areas.code"), nullable=True, index=True),
    Column("legacy_area_code", String(32), ForeignKey("areas.code"), nullable=True, index=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity_type", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("unit", String(32), nullable=False, default=""),
    Index("ux_metrics_type_name", "entity_type", "name", unique=True),
)

# Raw time series. No secondary index: dashboards read rollups, and the primary key
# (entity, metric, time) serves per-series range scans.
observations = Table(
    "observations",
    metadata,
    Column("entity_id", Integer, primary_key=True),
    Column("metric_id", Integer, primary_key=True),
    Column("ts_ms", BigInteger, primary_key=True),
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)

# One table for the three grains keeps the incremental upsert a single statement per grain.
rollups = Table(
    "rollups",
    metadata,
    Column("grain", String(1), primary_key=True, comment="m (minute), h (hour), d (day, UTC+7)"),
    Column("entity_id", Integer, primary_key=True),
    Column("metric_id", Integer, primary_key=True),
    Column("bucket_ms", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("sum", Float, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("last_ts_ms", BigInteger, nullable=False),
    Column("last", Float, nullable=False),
    sqlite_with_rowid=False,
)

latest = Table(
    "latest",
    metadata,
    Column("entity_id", Integer, primary_key=True),
    Column("metric_id", Integer, primary_key=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)

batches = Table(
    "batches",
    metadata,
    # 64-bit: a cluster's API servers give batches ids up to 2^53 (migration 0006b on PostgreSQL).
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("received_ms", BigInteger, nullable=False),
    Column("source", String(64), nullable=False),
    Column("points", Integer, nullable=False),
)

# "Day" buckets follow Vietnam's civil day (UTC+7, no daylight saving).
VIETNAM_OFFSET_MS = 7 * 3600 * 1000
GRAIN_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
Index("ix_entities_area_type", entities.c.area_code, entities.c.type)
