"""The audit log: who changed what, when, with the object before and after, as JSON.

Append-only: `record` inserts, nothing in cityops updates or deletes, and the store itself refuses
UPDATE and DELETE on the table (triggers created by migration 0003). Call `record` with the connection of
the transaction that makes the change, so a change and its audit entry are committed together or not at
all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select

from cityops.core.access.schema import audit_log

ACTOR_MAX = 100
OBJECT_MAX = 300


def _plain(value: Any) -> Any:
    """`value` as JSON types (datetimes, tuples, sets… become strings or lists) so it always stores."""
    if value is None:
        return None
    as_json = orjson.dumps(
        value, default=lambda v: sorted(v) if isinstance(v, set) else str(v), option=orjson.OPT_NON_STR_KEYS
    )
    return orjson.loads(as_json)


def record(
    conn: Connection,
    actor: str,
    action: str,
    object: str,
    before: Any = None,
    after: Any = None,
    *,
    ts_ms: int | None = None,
) -> int:
    """Append one entry; returns its id. `action` is '<kind>.<verb>' (e.g. 'incident.transition'),
    `object` is '<kind>:<id>' (e.g. 'incident:42'); `before` is None for a creation, `after` for a
    deletion. Never pass secrets (password hashes, tokens): the log is read by admins."""
    result = conn.execute(
        insert(audit_log).values(
            ts_ms=int(time.time() * 1000) if ts_ms is None else ts_ms,
            actor=actor[:ACTOR_MAX],
            action=action,
            object=object[:OBJECT_MAX],
            before=_plain(before),
            after=_plain(after),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    object: str | None = None
    object_prefix: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None


def read(
    conn: Connection, where: AuditFilter, limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """Entries matching `where`, newest first, and how many match in all."""
    query = select(audit_log)
    if where.actor is not None:
        query = query.where(audit_log.c.actor == where.actor)
    if where.action is not None:
        query = query.where(audit_log.c.action == where.action)
    if where.object is not None:
        query = query.where(audit_log.c.object == where.object)
    if where.object_prefix is not None:
        escaped = where.object_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(audit_log.c.object.like(f"{escaped}%", escape="\\"))
    if where.since_ms is not None:
        query = query.where(audit_log.c.ts_ms >= where.since_ms)
    if where.until_ms is not None:
        query = query.where(audit_log.c.ts_ms < where.until_ms)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit).offset(offset)).all()
    items = [
        {
            "id": row.id,
            "ts_ms": row.ts_ms,
            "actor": row.actor,
            "action": row.action,
            "object": row.object,
            "before": row.before,
            "after": row.after,
        }
        for row in rows
    ]
    return total, items
