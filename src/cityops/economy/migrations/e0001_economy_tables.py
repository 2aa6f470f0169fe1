"""economy: statistical series and their revisions, targets, imports, investment projects, programme

Revision ID: e0001
Revises:
Create Date: 2026-12-04 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("economy",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "economy_country_totals",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column(
            "as_of", sa.String(length=10), nullable=False, comment="year or ISO date the count is as of"
        ),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("registered_musd", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("of_countries", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("country", "as_of"),
    )
    op.create_table(
        "economy_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("figures", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("revised", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("imported_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "economy_programme_projects",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False, comment="{vi, en, ja}"),
        sa.Column("partner", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("budget_bn_vnd", sa.Float(), nullable=False),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="planned, piloting, rolling_out, done, on_hold",
        ),
        sa.Column(
            "indicators",
            sa.JSON(),
            nullable=False,
            comment="ids of the cityops indicators that show its effect",
        ),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "economy_programme_rollout",
        sa.Column("area_code", sa.String(length=32), nullable=False),
        sa.Column("wave", sa.SmallInteger(), nullable=False, comment="0 = pilot"),
        sa.Column(
            "starts", sa.String(length=10), nullable=False, comment="ISO date the programme starts there"
        ),
        sa.PrimaryKeyConstraint("area_code"),
    )
    op.create_table(
        "economy_projects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("investor", sa.Text(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False, comment="ISO 3166-1 alpha-2"),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("park", sa.String(length=64), nullable=True, comment="industrial park id, when inside one"),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("registered_musd", sa.Float(), nullable=False),
        sa.Column("disbursed_musd", sa.Float(), nullable=False),
        sa.Column(
            "status",
            sa.String(length=20),
            nullable=False,
            comment="licensed, under_construction, operating, suspended",
        ),
        sa.Column("licensed_on", sa.String(length=10), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("economy_projects", schema=None) as batch_op:
        batch_op.create_index("ix_economy_projects_country", ["country"], unique=False)

    op.create_table(
        "economy_series",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False, comment="{vi, en, ja}"),
        sa.Column("unit", sa.String(length=16), nullable=False, comment="a unit code of units.UNITS"),
        sa.Column("source", sa.Text(), nullable=False, comment="who publishes it"),
        sa.Column(
            "period_type", sa.String(length=8), nullable=False, comment="month (and cumulative) or year"
        ),
        sa.Column("area_code", sa.String(length=32), nullable=False, comment="the area it measures"),
        sa.Column(
            "additive", sa.Boolean(), nullable=False, comment="a cumulative period is the sum of its months"
        ),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "economy_programme_milestones",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("due", sa.String(length=10), nullable=False, comment="ISO date"),
        sa.Column("done", sa.String(length=10), nullable=True, comment="ISO date"),
        sa.ForeignKeyConstraint(
            ["project_code"],
            ["economy_programme_projects.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "economy_targets",
        sa.Column("series_code", sa.String(length=64), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=8),
            nullable=False,
            comment="'value' (a level for the year) or 'growth' (%)",
        ),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_code"],
            ["economy_series.code"],
        ),
        sa.PrimaryKeyConstraint("series_code", "year"),
    )
    op.create_table(
        "economy_values",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_code", sa.String(length=64), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("first_month", sa.SmallInteger(), nullable=False),
        sa.Column("last_month", sa.SmallInteger(), nullable=False),
        sa.Column(
            "revision",
            sa.SmallInteger(),
            nullable=False,
            comment="0 = first published; each revision adds one",
        ),
        sa.Column(
            "value",
            sa.Float(),
            nullable=True,
            comment="in the series' unit; null when only a change is known",
        ),
        sa.Column(
            "change_pct",
            sa.Float(),
            nullable=True,
            comment="% change on the same period a year earlier, as published",
        ),
        sa.Column(
            "qualifier",
            sa.String(length=8),
            nullable=True,
            comment="'over' or 'about' when the source says so",
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True, comment="why it was revised"),
        sa.Column("recorded_ms", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_code"],
            ["economy_series.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "series_code", "year", "first_month", "last_month", "revision", name="uq_economy_values"
        ),
    )
    with op.batch_alter_table("economy_values", schema=None) as batch_op:
        batch_op.create_index("ix_economy_values_period", ["series_code", "year", "last_month"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("economy_values", schema=None) as batch_op:
        batch_op.drop_index("ix_economy_values_period")

    op.drop_table("economy_values")
    op.drop_table("economy_targets")
    op.drop_table("economy_programme_milestones")
    op.drop_table("economy_series")
    with op.batch_alter_table("economy_projects", schema=None) as batch_op:
        batch_op.drop_index("ix_economy_projects_country")

    op.drop_table("economy_projects")
    op.drop_table("economy_programme_rollout")
    op.drop_table("economy_programme_projects")
    op.drop_table("economy_imports")
    op.drop_table("economy_country_totals")
