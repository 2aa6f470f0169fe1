"""services: procedures, agencies, calendar overrides, dossiers, findings, imports

Revision ID: s0001
Revises:
Create Date: 2026-11-23 09:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("services",)
depends_on: str | Sequence[str] | None = "0001"

OPEN = "status <= 6 AND status <> 3"  # receiving, new, processing, waiting, paying


def upgrade() -> None:
    op.create_table(
        "services_procedures",
        sa.Column("code", sa.String(length=64), nullable=False, comment="mã TTHC"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False, comment="lĩnh vực"),
        sa.Column(
            "level",
            sa.String(length=8),
            nullable=False,
            comment="none, partial (một phần) or full (toàn trình)",
        ),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("duration_unit", sa.String(length=16), nullable=False),
        sa.Column(
            "agency_level", sa.String(length=8), nullable=False, comment="province, district or commune"
        ),
        sa.Column("fee_bearing", sa.Boolean(), nullable=False),
        sa.Column("online_payment", sa.Boolean(), nullable=False),
        sa.Column("on_national_portal", sa.Boolean(), nullable=False),
        sa.Column("published_on_time", sa.Boolean(), nullable=False),
        sa.Column("updated_on_time", sa.Boolean(), nullable=False),
        sa.Column("publication_complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "services_agencies",
        sa.Column(
            "code",
            sa.String(length=64),
            nullable=False,
            comment="electronic identifier (mã định danh điện tử)",
        ),
        sa.Column("valid_from", sa.String(length=10), nullable=False, comment="ISO date; '' = since always"),
        sa.Column("valid_to", sa.String(length=10), nullable=True, comment="first day no longer valid"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("code", "valid_from"),
    )
    op.create_table(
        "services_calendar_overrides",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "services_dossiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=96), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=False),
        sa.Column(
            "channel",
            sa.SmallInteger(),
            nullable=False,
            comment="1 walk-in, 2 online, 3 public postal service",
        ),
        sa.Column(
            "online_level",
            sa.SmallInteger(),
            nullable=True,
            comment="legacy level: 2 none, 3 partial, 4 full",
        ),
        sa.Column("status", sa.SmallInteger(), nullable=False, comment="national portal status code 1–10"),
        sa.Column("status_at", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.BigInteger(), nullable=True),
        sa.Column("due_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "due_origin", sa.SmallInteger(), nullable=False, comment="0 the source's, 1 the calendar's"
        ),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("returned_at", sa.BigInteger(), nullable=True),
        sa.Column("refused_at", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_at", sa.BigInteger(), nullable=True),
        sa.Column("stopped_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "supplements", sa.Text(), nullable=True, comment="JSON [[requested, deadline, provided], ...]"
        ),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=False),
        sa.Column("paid_online", sa.SmallInteger(), nullable=True),
        sa.Column("flags", sa.Integer(), nullable=False, comment="yes/no fields, bits of records.FLAG_BITS"),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("services_dossiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_services_dossiers_open_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
    op.create_table(
        "services_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_code", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False, comment="file name or 'events'"),
        sa.Column("recorded_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("services_findings", schema=None) as batch_op:
        batch_op.create_index("ix_services_findings_dossier_code", ["dossier_code"], unique=False)
    op.create_table(
        "services_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False, comment="count per finding kind"),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("imported_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("services_imports")
    with op.batch_alter_table("services_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_services_findings_dossier_code")
    op.drop_table("services_findings")
    with op.batch_alter_table("services_dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_services_dossiers_open_due")
    op.drop_table("services_dossiers")
    op.drop_table("services_calendar_overrides")
    op.drop_table("services_agencies")
    op.drop_table("services_procedures")
