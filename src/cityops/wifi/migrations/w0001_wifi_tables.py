"""wifi: tenants, plans, NAS clients, access points, RADIUS users, sessions, sign-ins

Revision ID: w0001
Revises:
Create Date: 2026-12-04 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "w0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("wifi",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wifi_radius_backends",
        sa.Column("name", sa.String(length=64), nullable=False, comment="the FreeRADIUS server's name"),
        sa.Column(
            "secret_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the secret rlm_rest sends",
        ),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "wifi_sign_ins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("nas_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wifi_sign_ins", schema=None) as batch_op:
        batch_op.create_index("ix_wifi_sign_ins_ts", ["ts_ms"], unique=False)

    op.create_table(
        "wifi_tenants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind", sa.String(length=16), nullable=False, comment="'community' (the province's) or 'business'"
        ),
        sa.Column(
            "agency_code",
            sa.String(length=64),
            nullable=True,
            comment="agency officers with this agency code are the tenant's staff",
        ),
        sa.Column("hash_personal_data", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_code"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "wifi_nas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False, comment="also the FreeRADIUS client's name"),
        sa.Column("ip_address", sa.String(length=45), nullable=False, comment="the NAS's source address"),
        sa.Column(
            "secret",
            sa.String(length=128),
            nullable=False,
            comment="RADIUS shared secret (FreeRADIUS needs it)",
        ),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["wifi_tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ip_address"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("wifi_nas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_nas_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "wifi_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("session_seconds", sa.Integer(), nullable=True, comment="longest session; none: no limit"),
        sa.Column(
            "daily_quota_bytes", sa.BigInteger(), nullable=True, comment="per user and civil day (UTC+7)"
        ),
        sa.Column("down_kbps", sa.Integer(), nullable=True),
        sa.Column("up_kbps", sa.Integer(), nullable=True),
        sa.Column("max_devices", sa.Integer(), nullable=True, comment="simultaneous sessions per user"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["wifi_tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "name", name="ux_wifi_plans_tenant_name"),
    )
    with op.batch_alter_table("wifi_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_plans_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "wifi_access_points",
        sa.Column(
            "id", sa.String(length=64), nullable=False, comment="the id in urn:ngsi-ld:AccessPoint:<id>"
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False, comment="lower case, colon separated"),
        sa.Column("ssids", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("firmware", sa.String(length=100), nullable=True),
        sa.Column("nas_id", sa.Integer(), nullable=True),
        sa.Column(
            "site",
            sa.String(length=200),
            nullable=True,
            comment="the place its devices share (a park, a cafe)",
        ),
        sa.Column(
            "key_hash", sa.String(length=64), nullable=False, comment="SHA-256 of the device's heartbeat key"
        ),
        sa.Column("last_heartbeat_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_accounting_ms", sa.BigInteger(), nullable=True),
        sa.Column(
            "health", sa.JSON(), nullable=True, comment="the last heartbeat (NetJSON DeviceMonitoring-like)"
        ),
        sa.Column("state", sa.String(length=8), nullable=False, comment="up, down or unknown"),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nas_id"],
            ["wifi_nas.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["wifi_tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mac"),
    )
    with op.batch_alter_table("wifi_access_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_access_points_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "wifi_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("nas_id", sa.Integer(), nullable=False),
        sa.Column("acct_session_id", sa.String(length=64), nullable=False),
        sa.Column("access_point_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_mac", sa.String(length=80), nullable=True, comment="the MAC or its keyed hash"),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("stopped_ms", sa.BigInteger(), nullable=True, comment="none while open"),
        sa.Column("session_seconds", sa.Integer(), nullable=False),
        sa.Column("input_bytes", sa.BigInteger(), nullable=False),
        sa.Column("output_bytes", sa.BigInteger(), nullable=False),
        sa.Column("interim_seconds", sa.Integer(), nullable=False, comment="the NAS's interim interval"),
        sa.Column("terminate_cause", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["nas_id"],
            ["wifi_nas.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["wifi_tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nas_id", "acct_session_id", name="ux_wifi_sessions_nas_session"),
    )
    with op.batch_alter_table("wifi_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_wifi_sessions_open", ["stopped_ms", "updated_ms"], unique=False)
        batch_op.create_index("ix_wifi_sessions_tenant", ["tenant_id", "started_ms"], unique=False)
        batch_op.create_index("ix_wifi_sessions_user", ["user_id", "started_ms"], unique=False)

    op.create_table(
        "wifi_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False, comment="the RADIUS User-Name"),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="voucher, account or phone"),
        sa.Column(
            "password",
            sa.String(length=64),
            nullable=True,
            comment="vouchers and phone sign-ins: the short-lived code itself (CHAP needs it)",
        ),
        sa.Column("password_hash", sa.Text(), nullable=True, comment="accounts: argon2id (PAP only)"),
        sa.Column(
            "phone",
            sa.String(length=80),
            nullable=True,
            comment="phone sign-ins: the number or its keyed hash",
        ),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("valid_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("first_used_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["wifi_plans.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["wifi_tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("wifi_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_users_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    for table in (
        "wifi_sign_ins",
        "wifi_radius_backends",
        "wifi_sessions",
        "wifi_users",
        "wifi_access_points",
        "wifi_nas",
        "wifi_plans",
        "wifi_tenants",
    ):
        op.drop_table(table)
