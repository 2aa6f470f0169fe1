"""Tables of the economy domain, on its own `MetaData` (migration `economy/migrations` creates them).

A figure is never overwritten: each (series, period) keeps every revision it was given, and the newest
revision is the figure in force. Money is stored in the unit of its series (million USD, billion VND).
"""

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
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

series = Table(
    "economy_series",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("title", JSON, nullable=False, comment="{vi, en, ja}"),
    Column("unit", String(16), nullable=False, comment="a unit code of units.UNITS"),
    Column("source", Text, nullable=False, comment="who publishes it"),
    Column("period_type", String(8), nullable=False, comment="month (and cumulative) or year"),
    Column("area_code", String(32), nullable=False, comment="the area it measures"),
    Column("additive", Boolean, nullable=False, comment="a cumulative period is the sum of its months"),
    Column("builtin", Boolean, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

values = Table(
    "economy_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_code", String(64), ForeignKey("economy_series.code"), nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("first_month", SmallInteger, nullable=False),
    Column("last_month", SmallInteger, nullable=False),
    Column("revision", SmallInteger, nullable=False, comment="0 = first published; each revision adds one"),
    Column("value", Float, nullable=True, comment="in the series' unit; null when only a change is known"),
    Column(
        "change_pct", Float, nullable=True, comment="% change on the same period a year earlier, as published"
    ),
    Column("qualifier", String(8), nullable=True, comment="'over' or 'about' when the source says so"),
    Column("source", Text, nullable=False),
    Column("simulated", Boolean, nullable=False),
    Column("note", Text, nullable=True, comment="why it was revised"),
    Column("recorded_ms", BigInteger, nullable=False),
    Column("recorded_by", String(100), nullable=False),
    UniqueConstraint(
        "series_code", "year", "first_month", "last_month", "revision", name="uq_economy_values"
    ),
)
Index("ix_economy_values_period", values.c.series_code, values.c.year, values.c.last_month)

targets = Table(
    "economy_targets",
    metadata,
    Column("series_code", String(64), ForeignKey("economy_series.code"), primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("kind", String(8), nullable=False, comment="'value' (a level for the year) or 'growth' (%)"),
    Column("target", Float, nullable=False),
    Column("source", Text, nullable=False),
    Column("simulated", Boolean, nullable=False),
)

imports = Table(
    "economy_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("format", String(8), nullable=False),
    Column("figures", Integer, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("revised", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("imported_ms", BigInteger, nullable=False),
)

projects = Table(
    "economy_projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("investor", Text, nullable=False),
    Column("country", String(2), nullable=False, comment="ISO 3166-1 alpha-2"),
    Column("sector", String(32), nullable=False),
    Column("park", String(64), nullable=True, comment="industrial park id, when inside one"),
    Column("area_code", String(32), nullable=True),
    Column("registered_musd", Float, nullable=False),
    Column("disbursed_musd", Float, nullable=False),
    Column(
        "status", String(20), nullable=False, comment="licensed, under_construction, operating, suspended"
    ),
    Column("licensed_on", String(10), nullable=False),
    Column("source", Text, nullable=False),
    Column("simulated", Boolean, nullable=False),
    Index("ix_economy_projects_country", "country"),
)

# What a statistics or investment office publishes about a country as a whole (Japan: 327 projects).
country_totals = Table(
    "economy_country_totals",
    metadata,
    Column("country", String(2), primary_key=True),
    Column("as_of", String(10), primary_key=True, comment="year or ISO date the count is as of"),
    Column("projects", Integer, nullable=False),
    Column("registered_musd", Float, nullable=False),
    Column("rank", Integer, nullable=True),
    Column("of_countries", Integer, nullable=True),
    Column("source", Text, nullable=False),
    Column("simulated", Boolean, nullable=False),
)

programme_projects = Table(
    "economy_programme_projects",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("title", JSON, nullable=False, comment="{vi, en, ja}"),
    Column("partner", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("budget_bn_vnd", Float, nullable=False),
    Column("status", String(16), nullable=False, comment="planned, piloting, rolling_out, done, on_hold"),
    Column("indicators", JSON, nullable=False, comment="ids of the cityops indicators that show its effect"),
    Column("simulated", Boolean, nullable=False),
)

milestones = Table(
    "economy_programme_milestones",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_code", String(32), ForeignKey("economy_programme_projects.code"), nullable=False),
    Column("title", JSON, nullable=False),
    Column("due", String(10), nullable=False, comment="ISO date"),
    Column("done", String(10), nullable=True, comment="ISO date"),
)

# Pilot localities (wave 0) and the rollout waves after them.
rollout = Table(
    "economy_programme_rollout",
    metadata,
    Column("area_code", String(32), primary_key=True),
    Column("wave", SmallInteger, nullable=False, comment="0 = pilot"),
    Column("starts", String(10), nullable=False, comment="ISO date the programme starts there"),
)
