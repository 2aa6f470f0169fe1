"""The table of NGSI-LD subscriptions (`/ngsi-ld/v1/subscriptions`), on the kernel's `metadata`
(migration 0004n creates it): the subscription as the client gave it, with its delivery record."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, String, Table, Text

from cityops.core.schema import metadata

subscriptions = Table(
    "ngsild_subscriptions",
    metadata,
    Column("id", String(256), primary_key=True, comment="the subscription's URI"),
    Column("tenant", String(64), nullable=True, comment="the NGSILD-Tenant it was made in"),
    Column("owner", String(100), nullable=False, comment="who made it (the audit log's actor)"),
    Column("body", JSON, nullable=False, comment="the subscription in its normalized, expanded form"),
    Column("active", Boolean, nullable=False, default=True),
    Column("expires_ms", BigInteger, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("times_sent", Integer, nullable=False, default=0),
    Column("times_failed", Integer, nullable=False, default=0),
    Column("last_notification_ms", BigInteger, nullable=True),
    Column("last_success_ms", BigInteger, nullable=True),
    Column("last_failure_ms", BigInteger, nullable=True),
    Column("last_failure", Text, nullable=True, comment="why the last delivery failed"),
)
