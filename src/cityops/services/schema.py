"""Tables of the public-services domain (migration `services/migrations` creates them).

They sit on their own `MetaData`, as the reports domain's do, so loading the domain leaves the kernel's
schema comparisons (migrations against `core.schema.metadata`) alone.

Dossiers are stored flat, one row each, with every moment as whole epoch seconds (the one-stop systems
record to the second) and the yes/no fields packed in `flags` (see `records.py`): a province-year is
millions of rows and the bulk import writes them at tens of thousands a second.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

procedures = Table(
    "services_procedures",
    metadata,
    Column("code", String(64), primary_key=True, comment="mã TTHC"),
    Column("name", Text, nullable=False),
    Column("field", Text, nullable=False, comment="lĩnh vực"),
    Column("level", String(8), nullable=False, comment="none, partial (một phần) or full (toàn trình)"),
    Column("duration", Float, nullable=False),
    Column("duration_unit", String(16), nullable=False),
    Column("agency_level", String(8), nullable=False, comment="province, district or commune"),
    Column("fee_bearing", Boolean, nullable=False),
    Column("online_payment", Boolean, nullable=False),
    Column("on_national_portal", Boolean, nullable=False),
    Column("published_on_time", Boolean, nullable=False),
    Column("updated_on_time", Boolean, nullable=False),
    Column("publication_complete", Boolean, nullable=False),
)

agencies = Table(
    "services_agencies",
    metadata,
    Column("code", String(64), primary_key=True, comment="electronic identifier (mã định danh điện tử)"),
    Column("valid_from", String(10), primary_key=True, comment="ISO date; '' = since always"),
    Column("valid_to", String(10), nullable=True, comment="first day no longer valid"),
    Column("name", Text, nullable=False),
    Column("area_code", String(64), nullable=False),
    Column("level", String(8), nullable=False),
)

# The government's yearly swapped days (ngày làm bù / nghỉ bù), editable by the operator; they have the
# last word over weekends and the public holidays of PyPI `holidays`.
calendar_overrides = Table(
    "services_calendar_overrides",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("working", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
)

OPEN_STATUSES = (1, 2, 4, 5, 6)
# The open statuses as the partial index and its queries say them (a range: cheaper for SQLite to test on
# every insert than a list).
OPEN_WHERE = "status <= 6 AND status <> 3"

dossiers = Table(
    "services_dossiers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(96), nullable=False, unique=True),
    Column("procedure_code", String(64), nullable=False),
    Column("agency_code", String(64), nullable=False),
    Column("area_code", String(64), nullable=False),
    Column("channel", SmallInteger, nullable=False, comment="1 walk-in, 2 online, 3 public postal service"),
    Column("online_level", SmallInteger, nullable=True, comment="legacy level: 2 none, 3 partial, 4 full"),
    Column("status", SmallInteger, nullable=False, comment="national portal status code 1–10"),
    Column("status_at", BigInteger, nullable=True),
    Column("submitted_at", BigInteger, nullable=True),
    Column("received_at", BigInteger, nullable=True),
    Column("due_at", BigInteger, nullable=True),
    Column("due_origin", SmallInteger, nullable=False, comment="0 the source's, 1 the calendar's"),
    Column("finished_at", BigInteger, nullable=True),
    Column("returned_at", BigInteger, nullable=True),
    Column("refused_at", BigInteger, nullable=True),
    Column("cancelled_at", BigInteger, nullable=True),
    Column("stopped_at", BigInteger, nullable=True),
    Column("supplements", Text, nullable=True, comment="JSON [[requested, deadline, provided], ...]"),
    Column("fee_vnd", BigInteger, nullable=False),
    Column("paid_online", SmallInteger, nullable=True),
    Column("flags", Integer, nullable=False, comment="yes/no fields, bits of records.FLAG_BITS"),
    Column("rating", SmallInteger, nullable=True),
)
# The open dossiers by due date: what the due-soon and late alerts and the late list read.
Index(
    "ix_services_dossiers_open_due",
    dossiers.c.due_at,
    sqlite_where=text(OPEN_WHERE),
    postgresql_where=text(OPEN_WHERE),
)

# What an import or an event noticed and did not change (due dates that disagree with the calendar...).
findings = Table(
    "services_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dossier_code", String(96), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("field", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("severity", String(8), nullable=False),
    Column("source", String(200), nullable=False, comment="file name or 'events'"),
    Column("recorded_ms", BigInteger, nullable=False),
)

imports = Table(
    "services_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("format", String(8), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("findings", JSON, nullable=False, comment="count per finding kind"),
    Column("seconds", Float, nullable=False),
    Column("imported_ms", BigInteger, nullable=False),
)

# How many transactions have changed the dossiers: every import and event batch adds one, in its own
# transaction. A snapshot of the index accumulator is valid only for the generation it was taken at.
generation = Table(
    "services_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
)

# The index accumulator's state (`index_snapshots.py`), so that a server starts without recomputing it
# from every stored dossier.
index_snapshot = Table(
    "services_index_snapshot",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column(
        "layout", String(64), nullable=False, comment="format, period kinds and counters it was made with"
    ),
    Column("generation", BigInteger, nullable=False, comment="services_generation when it was taken"),
    Column("dossiers", BigInteger, nullable=False, comment="stored dossiers then"),
    Column("last_id", BigInteger, nullable=False, comment="highest dossier id then"),
    Column("state", LargeBinary, nullable=False, comment="zlib-compressed JSON"),
    Column("saved_ms", BigInteger, nullable=False),
)
