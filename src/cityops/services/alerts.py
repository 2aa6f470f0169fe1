"""A "due soon" and a "late" alert per dossier, through the kernel's alerts.

The kernel's rule engine judges observations and indicators, not dossiers; so this domain ships two
indicator rules (`services-dossier-due-soon`, `services-dossier-late`, on the counts of open dossiers due
within 24 h and overdue) that the engine evaluates for the province as a whole, and raises one alert per
dossier under the same rules itself: an open dossier (not waiting for the citizen: the clock is stopped
then) whose due date is within 24 hours gets a due-soon alert, one whose due date has passed a late
alert; both clear when the dossier ends (or, for due-soon, when it turns late). The alerts are stored and
published as every kernel alert is (`rules_alerts.write_changes`, `AlertRaised`/`AlertCleared` on the
bus), so they reach the operations room, the live feed and, where the operator sets the rule's
`opens_incident`, the incident desk. Disabling a rule stops its alerts. Each alert sits at the centroid
of the dossier's area.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import OperationalError

from cityops.core.rules.alerts import AlertChange, AlertClosing, AlertOpening, write_changes
from cityops.core.rules.definitions import IndicatorRule
from cityops.core.rules.engine import RuleNotFound
from cityops.core.rules.scope import EntityInfo
from cityops.core.schema_operations import alerts
from cityops.services.dossiers.classification import DUE_SOON_S
from cityops.services.localities import AreaBook
from cityops.services.runtime import ServicesRuntime
from cityops.services.schema import dossiers
from cityops.services.timing.periods import from_timestamp

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)
DUE_SOON_RULE = "services-dossier-due-soon"
LATE_RULE = "services-dossier-late"
URN_PREFIX = "urn:ngsi-ld:Dossier:"
WAITING = 5  # for the citizen's supplement: the clock is stopped
# Literal, as the partial index `ix_services_dossiers_open_due` says it, so SQLite uses that index.
OPEN_CONDITION = text("services_dossiers.status <= 6 AND services_dossiers.status <> 3")
MAX_NEW_PER_SCAN = 500  # the rest follow at the next scan: a backlog never floods the room at once
# One late dossier is paperwork, not an emergency: below every operational alert (a traffic jam, a camera
# down are "high" / "medium"), so a backlog of them never outranks or buries what needs a crew now.
RULES: tuple[dict[str, Any], ...] = (
    {
        "id": DUE_SOON_RULE,
        "kind": "indicator_off_target",
        "indicator": "services.dossiers_due_soon",
        "status": "bad",
        "severity": "informational",
        "category": "publicService",
        "sub_category": "dossierOverdue",
        "title": {
            "vi": "Hồ sơ sắp đến hạn trả kết quả",
            "en": "Dossier due within 24 hours",
            "ja": "24時間以内に期限を迎える書類",
        },
    },
    {
        "id": LATE_RULE,
        "kind": "indicator_off_target",
        "indicator": "services.dossiers_overdue",
        "status": "bad",
        "severity": "low",
        "category": "publicService",
        "sub_category": "dossierOverdue",
        "title": {
            "vi": "Hồ sơ quá hạn trả kết quả",
            "en": "Dossier past its due date",
            "ja": "期限を過ぎた書類",
        },
    },
)


def count_due(conn: Connection, now_s: int) -> tuple[int, int]:
    """(due within 24 h, late) among the dossiers that `due_dossiers` returns: the ones carrying alerts."""
    late = (dossiers.c.due_at < now_s).label("late")
    rows = conn.execute(
        select(late, func.count())
        .where(OPEN_CONDITION, dossiers.c.status != WAITING, dossiers.c.due_at < now_s + DUE_SOON_S)
        .group_by(late)
    ).all()
    counts = {bool(is_late): int(count) for is_late, count in rows}
    return counts.get(False, 0), counts.get(True, 0)


@dataclass(frozen=True, slots=True)
class DueDossier:
    code: str
    procedure_code: str
    agency_code: str
    area_code: str
    due_at: int


def urn(code: str) -> str:
    return URN_PREFIX + code


def due_dossiers(conn: Connection, now_s: int) -> list[DueDossier]:
    """Open dossiers (not waiting for the citizen) due before now + 24 h, oldest due first."""
    query = (
        select(
            dossiers.c.code,
            dossiers.c.procedure_code,
            dossiers.c.agency_code,
            dossiers.c.area_code,
            dossiers.c.due_at,
        )
        .where(OPEN_CONDITION, dossiers.c.status != WAITING, dossiers.c.due_at < now_s + DUE_SOON_S)
        .order_by(dossiers.c.due_at)
    )
    return [DueDossier(*row) for row in conn.execute(query)]


def plan_changes(
    due: list[DueDossier],
    open_alerts: set[tuple[str, str]],
    rules: dict[str, IndicatorRule],
    area_book: AreaBook,
    now_s: int,
    procedure_names: dict[str, str],
) -> list[AlertChange]:
    """The alerts to raise and clear so that each due dossier has the one its due date calls for."""
    wanted: dict[tuple[str, str], DueDossier] = {}
    for dossier in due:
        rule_id = LATE_RULE if dossier.due_at < now_s else DUE_SOON_RULE
        if rule_id in rules:
            wanted[(rule_id, urn(dossier.code))] = dossier
    changes: list[AlertChange] = []
    for rule_id, source in sorted(open_alerts - set(wanted)):
        changes.append(AlertClosing(rule_id, source, _clear_reason(rule_id, source, wanted)))
    raised = 0
    for (rule_id, source), dossier in wanted.items():
        if (rule_id, source) in open_alerts:
            continue
        if raised == MAX_NEW_PER_SCAN:
            break
        raised += 1
        due_text = from_timestamp(dossier.due_at).strftime("%H:%M %d/%m/%Y")
        procedure = procedure_names.get(dossier.procedure_code, dossier.procedure_code)
        description = {
            "vi": f"Hồ sơ {dossier.code} ({procedure}), hạn trả kết quả {due_text}",
            "en": f"Dossier {dossier.code} ({procedure}), due {due_text}",
            "ja": f"書類 {dossier.code}（{procedure}）、期限 {due_text}",
        }
        changes.append(
            AlertOpening(
                rules[rule_id],
                source,
                dossier.code,
                _place(dossier, area_book),
                (now_s - dossier.due_at) / 3600,
                dossier.due_at * 1000,
                description,
            )
        )
    return changes


def _clear_reason(rule_id: str, source: str, wanted: dict[tuple[str, str], DueDossier]) -> str:
    if rule_id == DUE_SOON_RULE and (LATE_RULE, source) in wanted:
        return "became_late"
    return "dossier_settled"


def _place(dossier: DueDossier, area_book: AreaBook) -> EntityInfo:
    area = area_book.areas.get(dossier.area_code)
    legacy = dossier.area_code if dossier.area_code.startswith("legacy:") else None
    current = area_book.successors.get(dossier.area_code) if legacy else dossier.area_code
    return EntityInfo(
        id=0,
        urn=urn(dossier.code),
        type="Dossier",
        name=dossier.code,
        lon=area.lon if area else None,
        lat=area.lat if area else None,
        area_code=current,
        legacy_area_code=legacy,
        areas=frozenset(c for c in (current, legacy) if c),
    )


class DossierAlerts:
    """Keeps the per-dossier alerts in step with the dossiers and the clock."""

    def __init__(self, kernel: Kernel, runtime: ServicesRuntime) -> None:
        self.kernel = kernel
        self.runtime = runtime
        self.installed = False
        self._lock = asyncio.Lock()

    async def install_rules(self) -> bool:
        """Create the two rules if they are not there; afterwards they are the operator's to edit or
        disable. False when the store could not take them now (busy): the next scan tries again."""
        for definition in RULES:
            try:
                self.kernel.rules.get(definition["id"])
            except RuleNotFound:
                try:
                    await self.kernel.rules.create(definition)
                except OperationalError:
                    log.warning("the store is busy: the dossier alert rules will be created at the next scan")
                    return False
        self.installed = True
        return True

    def _rules(self) -> dict[str, IndicatorRule]:
        found: dict[str, IndicatorRule] = {}
        for rule_id in (DUE_SOON_RULE, LATE_RULE):
            try:
                rule = self.kernel.rules.get(rule_id).rule
            except RuleNotFound:
                continue
            if isinstance(rule, IndicatorRule) and rule.enabled:
                found[rule_id] = rule
        return found

    def _situation(self) -> tuple[int, list[DueDossier], set[tuple[str, str]]]:
        now_s = self.runtime.now_s()
        with self.runtime.engine.connect() as conn:
            due = due_dossiers(conn, now_s)
            query = select(alerts.c.rule_id, alerts.c.source).where(
                alerts.c.rule_id.in_((DUE_SOON_RULE, LATE_RULE)),
                alerts.c.cleared_ms.is_(None),
                alerts.c.source.startswith(URN_PREFIX),
            )
            open_alerts = {(row.rule_id, row.source) for row in conn.execute(query)}
        return now_s, due, open_alerts

    async def scan(self) -> int:
        """Raise and clear what the dossiers call for now; returns how many alerts changed. The rules are
        installed the first time a dossier calls for an alert: until then a scan only reads (the store
        is shared, and a write at every start would race the kernel's own)."""
        async with self._lock:
            now_s, due, open_alerts = await anyio.to_thread.run_sync(self._situation)
            if not due and not open_alerts:
                return 0
            if not self.installed and not await self.install_rules():
                return 0
            names = {p.code: p.name for p in self.runtime.catalogue.procedures}
            changes = plan_changes(due, open_alerts, self._rules(), self.runtime.area_book, now_s, names)
            if not changes:
                return 0
            now_ms = self.runtime.now_s() * 1000
            events = await anyio.to_thread.run_sync(write_changes, self.kernel.engine, changes, now_ms)
        for event in events:
            await self.kernel.bus.publish(event)
        return len(events)

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                await self.scan()
            except Exception:  # the next scan tries again; the alerts are derived, nothing is lost
                log.exception("dossier alert scan failed")
            await asyncio.sleep(interval_s)
