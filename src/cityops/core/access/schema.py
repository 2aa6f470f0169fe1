"""Tables of access control and audit: users, API and device tokens, web sessions, the audit log.

They live on the kernel's `metadata` (migration 0003 creates them, with the triggers that keep the audit
log append-only). Secrets are never stored: passwords as argon2id hashes, tokens and session ids as
SHA-256 digests (they are 256-bit random values, so a fast digest is enough).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from cityops.core.schema import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True, comment="lower case"),
    Column("display_name", Text, nullable=False, default=""),
    Column("role", String(16), nullable=False, comment="admin, operator, leader or agency_officer"),
    Column("agency_code", String(64), nullable=True, comment="agency officers: the agency they act for"),
    Column("area_codes", JSON, nullable=False, default=list, comment="agency officers: their areas"),
    Column("password_hash", Text, nullable=True, comment="argon2id; none for token-only accounts"),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("password_changed_ms", BigInteger, nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(8), nullable=False, comment="'user' (acts as its user) or 'device' (ingestion)"),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the token"),
    Column("prefix", String(16), nullable=False, comment="first characters, to recognise it in lists"),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("expires_ms", BigInteger, nullable=True),
    Column("revoked_ms", BigInteger, nullable=True),
    Column("last_used_ms", BigInteger, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True, comment="SHA-256 of the session cookie"),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("address", String(64), nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column(
        "actor", String(100), nullable=False, comment="username, 'device:<token name>', 'cli' or 'system'"
    ),
    Column("action", String(64), nullable=False, comment="'<object kind>.<verb>', e.g. 'user.create'"),
    Column("object", String(300), nullable=False, comment="'<kind>:<id>', e.g. 'entity:urn:ngsi-ld:...'"),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
)
Index("ix_audit_log_ts", audit_log.c.ts_ms)
Index("ix_audit_log_object", audit_log.c.object)
Index("ix_audit_log_actor", audit_log.c.actor)

# Rate-limit counts shared by every server of a cluster (`cityops.core.access.rate_counts`): one row per
# counted attempt, deleted once past its window; `key` is the `limits` key (namespace, identity and rate).
rate_hits = Table(
    "rate_hits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("amount", Integer, nullable=False),
)
Index("ix_rate_hits_key_ts", rate_hits.c.key, rate_hits.c.ts_ms)
Index("ix_rate_hits_expires", rate_hits.c.expires_ms)
