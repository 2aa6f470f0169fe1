"""Tables of the reports domain, on the kernel's `metadata` (migration `reports/migrations` creates them).

Contact details live in `reports` beside the text but are never part of a public answer (`desk.py`).
The tables sit on their own `MetaData`, so loading the domain leaves the kernel's schema comparisons
alone; the foreign key to `incidents` is declared in the migration.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_code", String(64), nullable=False, comment="the category (Open311 service_code)"),
    Column("description", Text, nullable=False),
    Column("address", Text, nullable=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("area_code", String(32), nullable=True),
    Column("legacy_area_code", String(32), nullable=True),
    Column("agency", String(64), nullable=False, comment="agency in charge, from the routing table"),
    Column("status", String(16), nullable=False, comment="pending, approved or refused"),
    Column("refusal_reason", Text, nullable=True),
    Column("contact_name", Text, nullable=True, comment="never published"),
    Column("contact_email", String(254), nullable=True, comment="never published"),
    Column("contact_phone", String(32), nullable=True, comment="never published"),
    Column("incident_id", Integer, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("moderated_ms", BigInteger, nullable=True),
    Column("moderated_by", String(100), nullable=True),
    Index("ix_reports_status", "status", "created_ms"),
    Index("ix_reports_agency", "agency"),
    Index("ix_reports_area", "area_code"),
)

report_files = Table(
    "report_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False, index=True),
    Column("stored_name", String(64), nullable=False, comment="generated; never the upload's"),
    Column("original_name", Text, nullable=False, comment="sanitised, shown only"),
    Column("content_type", String(100), nullable=False, comment="sniffed from the bytes"),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
)
