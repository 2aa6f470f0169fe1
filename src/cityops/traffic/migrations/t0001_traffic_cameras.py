"""traffic: camera stream URLs and analytics configuration

Revision ID: t0001
Revises:
Create Date: 2026-11-25 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("traffic",)
depends_on: str | Sequence[str] | None = "0001"


def upgrade() -> None:
    op.create_table(
        "traffic_cameras",
        sa.Column(
            "camera_id", sa.String(length=64), nullable=False, comment="the id in urn:ngsi-ld:Camera:<id>"
        ),
        sa.Column(
            "stream_url", sa.Text(), nullable=True, comment="may hold credentials: never served unredacted"
        ),
        sa.Column("analytics", sa.JSON(), nullable=True, comment="traffic.analytics.Analytics as JSON"),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("camera_id"),
    )


def downgrade() -> None:
    op.drop_table("traffic_cameras")
