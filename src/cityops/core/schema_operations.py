"""Tables of the operations room: alert rules, alerts, incidents with their history and attachments.

They live on the kernel's `metadata`, so Alembic autogenerate and `metadata.create_all` see them once this
module is imported (migration 0002 creates them).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from cityops.core.schema import metadata

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("definition", JSON, nullable=False, comment="the validated rule, as the API returns it"),
    Column("source", String(16), nullable=False, comment="'api' or 'config' (read-only through the API)"),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("sub_category", String(64), nullable=True),
    Column("source", String(200), nullable=True, comment="URN of the entity concerned, if any"),
    Column("area_code", String(32), nullable=True),
    Column("legacy_area_code", String(32), nullable=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("agency", String(200), nullable=True, comment="agency in charge once assigned"),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("acknowledge_due_ms", BigInteger, nullable=True),
    Column("resolve_due_ms", BigInteger, nullable=True),
    Column("escalation", String(16), nullable=True, comment="'acknowledge' or 'resolve': the SLA missed"),
    Column("escalated_ms", BigInteger, nullable=True),
    Column("resolved_ms", BigInteger, nullable=True),
    Column("closed_ms", BigInteger, nullable=True),
)
Index("ix_incidents_state_severity", incidents.c.state, incidents.c.severity)
Index("ix_incidents_area", incidents.c.area_code)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(64), nullable=False, comment="no foreign key: alerts outlive their rule"),
    Column("source", String(200), nullable=False, comment="entity URN or indicator id"),
    Column("source_name", Text, nullable=False),
    Column("entity_type", String(64), nullable=True),
    Column("area_code", String(32), nullable=True),
    Column("legacy_area_code", String(32), nullable=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("severity", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("sub_category", String(64), nullable=True),
    Column("title", JSON, nullable=False, comment="language -> text"),
    Column("description", JSON, nullable=False, comment="language -> text"),
    Column("value", Float, nullable=True),
    Column("observed_ms", BigInteger, nullable=True),
    Column("raised_ms", BigInteger, nullable=False),
    Column("cleared_ms", BigInteger, nullable=True),
    Column("clear_reason", String(32), nullable=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=True),
)
# The store itself refuses a second open alert for the same rule and source.
Index(
    "ux_alerts_open",
    alerts.c.rule_id,
    alerts.c.source,
    unique=True,
    sqlite_where=alerts.c.cleared_ms.is_(None),
    postgresql_where=alerts.c.cleared_ms.is_(None),
)
Index("ix_alerts_raised", alerts.c.raised_ms)
Index("ix_alerts_incident", alerts.c.incident_id)

incident_history = Table(
    "incident_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column(
        "kind",
        String(16),
        nullable=False,
        comment="created, transition, comment, attachment, alert, alert_cleared, escalation",
    ),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=True),
    Column("actor", String(100), nullable=True),
    Column("text", Text, nullable=True),
    Column("data", JSON, nullable=True),
)

incident_attachments = Table(
    "incident_attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    Column("stored_name", String(64), nullable=False, unique=True, comment="generated; never the upload's"),
    Column("original_name", Text, nullable=False, comment="sanitised, metadata only"),
    Column("content_type", String(100), nullable=False, comment="sniffed from the bytes"),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_ms", BigInteger, nullable=False),
    Column("actor", String(100), nullable=True),
)
