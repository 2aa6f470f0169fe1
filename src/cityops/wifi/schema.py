"""The wifi domain's tables (migration `wifi/migrations` creates them), on their own `MetaData` as the
other domains do, so the kernel's schema comparisons are left alone.

Every row below `wifi_tenants` carries its `tenant_id`, and every query of the management API filters on
it (`tenancy.py`). An access point is also a kernel entity (`urn:ngsi-ld:AccessPoint:<id>`: name,
location, ward); this table holds what is the tenant's own (MAC, SSIDs, the device's key).

Client MAC addresses and phone numbers are stored as keyed hashes (`privacy.py`) when the tenant's
policy says so (`hash_personal_data`); the column then holds `h:<hex>`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

tenants = Table(
    "wifi_tenants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False, comment="'community' (the province's) or 'business'"),
    Column(
        "agency_code",
        String(64),
        nullable=True,
        unique=True,
        comment="agency officers with this agency code are the tenant's staff",
    ),
    Column("hash_personal_data", Boolean, nullable=False, default=True),
    Column("created_ms", BigInteger, nullable=False),
)

plans = Table(
    "wifi_plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("wifi_tenants.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("session_seconds", Integer, nullable=True, comment="longest session; none: no limit"),
    Column("daily_quota_bytes", BigInteger, nullable=True, comment="per user and civil day (UTC+7)"),
    Column("down_kbps", Integer, nullable=True),
    Column("up_kbps", Integer, nullable=True),
    Column("max_devices", Integer, nullable=True, comment="simultaneous sessions per user"),
    UniqueConstraint("tenant_id", "name", name="ux_wifi_plans_tenant_name"),
)

nas_clients = Table(
    "wifi_nas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("wifi_tenants.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False, unique=True, comment="also the FreeRADIUS client's name"),
    Column("ip_address", String(45), nullable=False, unique=True, comment="the NAS's source address"),
    Column("secret", String(128), nullable=False, comment="RADIUS shared secret (FreeRADIUS needs it)"),
    Column("created_ms", BigInteger, nullable=False),
)

access_points = Table(
    "wifi_access_points",
    metadata,
    Column("id", String(64), primary_key=True, comment="the id in urn:ngsi-ld:AccessPoint:<id>"),
    Column("tenant_id", Integer, ForeignKey("wifi_tenants.id"), nullable=False, index=True),
    Column("mac", String(17), nullable=False, unique=True, comment="lower case, colon separated"),
    Column("ssids", JSON, nullable=False, default=list),
    Column("model", String(100), nullable=True),
    Column("firmware", String(100), nullable=True),
    Column("nas_id", Integer, ForeignKey("wifi_nas.id"), nullable=True),
    Column("site", String(200), nullable=True, comment="the place its devices share (a park, a cafe)"),
    Column("key_hash", String(64), nullable=False, comment="SHA-256 of the device's heartbeat key"),
    Column("last_heartbeat_ms", BigInteger, nullable=True),
    Column("last_accounting_ms", BigInteger, nullable=True),
    Column("health", JSON, nullable=True, comment="the last heartbeat (NetJSON DeviceMonitoring-like)"),
    Column("state", String(8), nullable=False, default="unknown", comment="up, down or unknown"),
    Column("created_ms", BigInteger, nullable=False),
)

radius_users = Table(
    "wifi_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("wifi_tenants.id"), nullable=False, index=True),
    Column("username", String(64), nullable=False, unique=True, comment="the RADIUS User-Name"),
    Column("kind", String(8), nullable=False, comment="voucher, account or phone"),
    Column(
        "password",
        String(64),
        nullable=True,
        comment="vouchers and phone sign-ins: the short-lived code itself (CHAP needs it)",
    ),
    Column("password_hash", Text, nullable=True, comment="accounts: argon2id (PAP only)"),
    Column("phone", String(80), nullable=True, comment="phone sign-ins: the number or its keyed hash"),
    Column("plan_id", Integer, ForeignKey("wifi_plans.id"), nullable=False),
    Column("valid_until_ms", BigInteger, nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("first_used_ms", BigInteger, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=False),
)

sessions = Table(
    "wifi_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("wifi_tenants.id"), nullable=False),
    Column("nas_id", Integer, ForeignKey("wifi_nas.id"), nullable=False),
    Column("acct_session_id", String(64), nullable=False),
    Column("access_point_id", String(64), nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("username", String(64), nullable=False),
    Column("client_mac", String(80), nullable=True, comment="the MAC or its keyed hash"),
    Column("started_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("stopped_ms", BigInteger, nullable=True, comment="none while open"),
    Column("session_seconds", Integer, nullable=False, default=0),
    Column("input_bytes", BigInteger, nullable=False, default=0),
    Column("output_bytes", BigInteger, nullable=False, default=0),
    Column("interim_seconds", Integer, nullable=False, comment="the NAS's interim interval"),
    Column("terminate_cause", String(32), nullable=True),
    UniqueConstraint("nas_id", "acct_session_id", name="ux_wifi_sessions_nas_session"),
    Index("ix_wifi_sessions_open", "stopped_ms", "updated_ms"),
    Index("ix_wifi_sessions_user", "user_id", "started_ms"),
    Index("ix_wifi_sessions_tenant", "tenant_id", "started_ms"),
)

radius_backends = Table(
    "wifi_radius_backends",
    metadata,
    Column("name", String(64), primary_key=True, comment="the FreeRADIUS server's name"),
    Column("secret_hash", String(64), nullable=False, comment="SHA-256 of the secret rlm_rest sends"),
    Column("created_ms", BigInteger, nullable=False),
)

sign_ins = Table(
    "wifi_sign_ins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("tenant_id", Integer, nullable=True),
    Column("nas_id", Integer, nullable=True),
    Column("username", String(64), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("reason", String(32), nullable=True),
    Index("ix_wifi_sign_ins_ts", "ts_ms"),
)

one_time_codes = Table(
    "wifi_one_time_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("wifi_tenants.id"), nullable=False),
    Column("phone", String(80), nullable=False, comment="keyed hash of the number, always"),
    Column("code_hash", String(64), nullable=False, comment="SHA-256 of the code with the row's salt"),
    Column("salt", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("used_ms", BigInteger, nullable=True),
    Index("ix_wifi_one_time_codes_phone", "phone", "created_ms"),
)

sms_outbox = Table(
    "wifi_sms_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("tenant_id", Integer, nullable=False),
    Column(
        "phone", String(80), nullable=False, comment="keyed hash of the number: the outbox is for demo/tests"
    ),
    Column("text", Text, nullable=False),
)

detail_offsets = Table(
    "wifi_detail_offsets",
    metadata,
    Column("file", String(255), primary_key=True, comment="a detail file's name in the spool"),
    Column("offset", BigInteger, nullable=False, comment="bytes stored; committed with what they held"),
    Column("updated_ms", BigInteger, nullable=False),
)
