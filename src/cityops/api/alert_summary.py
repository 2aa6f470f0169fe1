"""Alerts counted by rule, for an operations room where one rule may hold hundreds of open alerts (one per
late dossier): per rule its count, its most severe and newest alert, and its few newest alerts, so that
a panel can show a rule with many alerts as one row and a rule with few as its alerts, from one query.

Limits: every rule with a matching alert is listed (rules are few: they are configured, not raised);
`per_rule` newest alerts of each, at most `MAX_PER_RULE`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from cityops.core.rules.alerts import AlertFilter, alert_to_dict
from cityops.core.rules.definitions import SEVERITIES
from cityops.core.schema_operations import alerts

MAX_PER_RULE = 50
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}  # informational 0 … critical 4


def summarise(conn: Connection, where: AlertFilter, per_rule: int = 3) -> dict[str, Any]:
    """{"total", "rules": [...]} with the rules ordered most severe first, then newest first."""
    conditions = where.conditions()
    rank = case(SEVERITY_RANK, value=alerts.c.severity, else_=-1)
    counts = conn.execute(
        select(
            alerts.c.rule_id,
            func.count().label("matching"),
            func.max(alerts.c.raised_ms).label("newest_ms"),
            func.max(rank).label("rank"),
        )
        .where(*conditions)
        .group_by(alerts.c.rule_id)
    ).all()
    position = func.row_number().over(
        partition_by=alerts.c.rule_id, order_by=(alerts.c.raised_ms.desc(), alerts.c.id.desc())
    )
    numbered = select(alerts, position.label("position")).where(*conditions).subquery()
    latest: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(
        select(numbered).where(numbered.c.position <= per_rule).order_by(numbered.c.position)
    ):
        latest.setdefault(row.rule_id, []).append(alert_to_dict(row))
    rules = []
    for row in sorted(counts, key=lambda r: (-r.rank, -r.newest_ms, r.rule_id)):
        newest = latest[row.rule_id][0]
        rules.append(
            {
                "ruleId": row.rule_id,
                "name": newest["name"],
                "severity": SEVERITIES[row.rank] if row.rank >= 0 else newest["severity"],
                "category": newest["category"],
                "subCategory": newest["subCategory"],
                "count": int(row.matching),
                "dateIssued": newest["dateIssued"],
                "latest": latest[row.rule_id],
            }
        )
    return {"total": sum(rule["count"] for rule in rules), "rules": rules}
