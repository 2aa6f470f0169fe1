"""reports: citizens' reports and their files

Revision ID: r0001
Revises:
Create Date: 2026-11-24 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("reports",)
# 0002 creates `incidents`, which approved reports point at.
depends_on: str | Sequence[str] | None = "0002"


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "service_code",
            sa.String(length=64),
            nullable=False,
            comment="the category (Open311 service_code)",
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("legacy_area_code", sa.String(length=32), nullable=True),
        sa.Column(
            "agency", sa.String(length=64), nullable=False, comment="agency in charge, from the routing table"
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="pending, approved or refused"),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("contact_name", sa.Text(), nullable=True, comment="never published"),
        sa.Column("contact_email", sa.String(length=254), nullable=True, comment="never published"),
        sa.Column("contact_phone", sa.String(length=32), nullable=True, comment="never published"),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("moderated_ms", sa.BigInteger(), nullable=True),
        sa.Column("moderated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_status", ["status", "created_ms"], unique=False)
        batch_op.create_index("ix_reports_agency", ["agency"], unique=False)
        batch_op.create_index("ix_reports_area", ["area_code"], unique=False)
    op.create_table(
        "report_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column(
            "stored_name", sa.String(length=64), nullable=False, comment="generated; never the upload's"
        ),
        sa.Column("original_name", sa.Text(), nullable=False, comment="sanitised, shown only"),
        sa.Column("content_type", sa.String(length=100), nullable=False, comment="sniffed from the bytes"),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_files_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_table("report_files")
    op.drop_table("reports")
