"""wifi: how far the detail reader has stored each accounting spool file

Revision ID: w0003
Revises: w0002
Create Date: 2026-12-04 19:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "w0003"
down_revision: str | Sequence[str] | None = "w0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wifi_detail_offsets",
        sa.Column("file", sa.String(length=255), nullable=False, comment="a detail file's name in the spool"),
        sa.Column(
            "offset",
            sa.BigInteger(),
            nullable=False,
            comment="bytes stored; committed with what they held",
        ),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("file"),
    )


def downgrade() -> None:
    op.drop_table("wifi_detail_offsets")
