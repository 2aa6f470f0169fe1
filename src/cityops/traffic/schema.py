"""The traffic domain's table (migration `traffic/migrations` creates it), on its own `MetaData` as the
reports and services domains do, so the kernel's schema comparisons are left alone.

The camera itself is a kernel entity (`urn:ngsi-ld:Camera:<id>`: name, location, area, public
attributes); this table holds what must not be public — the stream URL, which may carry a password —
and the analytics configuration in image coordinates.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, MetaData, String, Table, Text

metadata = MetaData()

traffic_cameras = Table(
    "traffic_cameras",
    metadata,
    Column("camera_id", String(64), primary_key=True, comment="the id in urn:ngsi-ld:Camera:<id>"),
    Column("stream_url", Text, nullable=True, comment="may hold credentials: never served unredacted"),
    Column("analytics", JSON, nullable=True, comment="traffic.analytics.Analytics as JSON"),
    Column("updated_ms", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=False),
)
