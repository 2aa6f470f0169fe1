"""Incidents: the state machine, SLA timers with escalation, comments, attachments and the audit trail.

    new → acknowledged → assigned (to an agency) → resolved → closed
                                   ↺ (handed to another agency)   resolved/closed → reopened
    reopened → acknowledged | assigned

Every change is one transaction that also appends to `incident_history`; a transition is a
compare-and-set on the state, so two operators cannot both move the same incident from the same state.
Alerts open or join incidents (by hand, or automatically for rules with `opens_incident`). Every change
also appends to the audit log in its transaction (`incident.create|transition|comment|attachment`,
`alert.link`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Connection, Engine, Row, Select, func, insert, or_, select, update

from cityops.core import audit
from cityops.core.bus import Bus, Unsubscribe
from cityops.core.events import AlertCleared, AlertRaised, Event
from cityops.core.incidents.attachments import MAX_FILE_BYTES, AttachmentFolder, SavedFile
from cityops.core.incidents.rows import (
    ACTIVE,
    STATES,
    TRANSITIONS,
    IllegalTransition,
    IncidentConflict,
    IncidentFieldError,
    IncidentNotFound,
    NewIncident,
    State,
    attachment_to_dict,
    changed_event,
    due_at,
    fetch_incident,
    from_alert,
    history_to_dict,
    incident_to_dict,
    record_history,
)
from cityops.core.rules.alerts import iso
from cityops.core.rules.definitions import Severity
from cityops.core.rules.scope import AreaTree
from cityops.core.schema_operations import alerts, incident_attachments, incident_history, incidents
from cityops.core.store import write_transaction

# The lifecycle's names are part of this module's interface.
__all__ = [
    "ACTIVE",
    "STATES",
    "TRANSITIONS",
    "IllegalTransition",
    "IncidentConflict",
    "IncidentDesk",
    "IncidentFieldError",
    "IncidentFilter",
    "IncidentNotFound",
    "IncidentSettings",
    "NewIncident",
    "SlaTarget",
    "State",
]
Locate = Callable[[float, float, str], str | None]
# Called with the incident's row inside the transaction that would change it; raises to refuse (an agency
# officer acting outside its scope), which rolls the change back.
Guard = Callable[[Row[Any]], None]
SYSTEM_ACTOR = "system"  # the audit log's actor for changes made without a named one


class SlaTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acknowledge_minutes: float | None = Field(default=None, gt=0)
    resolve_minutes: float | None = Field(default=None, gt=0)


DEFAULT_SLA: dict[Severity, SlaTarget] = {
    "critical": SlaTarget(acknowledge_minutes=5, resolve_minutes=60),
    "high": SlaTarget(acknowledge_minutes=15, resolve_minutes=4 * 60),
    "medium": SlaTarget(acknowledge_minutes=60, resolve_minutes=24 * 60),
    "low": SlaTarget(acknowledge_minutes=4 * 60, resolve_minutes=3 * 24 * 60),
    "informational": SlaTarget(),
}


class IncidentSettings(BaseModel):
    """`[incidents]` in cityops.toml."""

    model_config = ConfigDict(extra="forbid")

    attachments_dir: Path = Field(
        default=Path("var/attachments"), description="Where attachments are stored."
    )
    max_attachment_bytes: int = Field(default=MAX_FILE_BYTES, ge=1, le=MAX_FILE_BYTES)
    sla: dict[Severity, SlaTarget] = Field(
        default_factory=lambda: dict(DEFAULT_SLA), description="Minutes to acknowledge and to resolve."
    )
    sla_check_seconds: float = Field(default=15.0, gt=0, le=3600)

    @field_validator("sla")
    @classmethod
    def _keep_defaults(cls, value: dict[Severity, SlaTarget]) -> dict[Severity, SlaTarget]:
        # Configuring one severity must not silently drop the deadlines of the others.
        return {**DEFAULT_SLA, **value}


@dataclass(frozen=True)
class IncidentFilter:
    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    area: str | None = None
    escalated: bool | None = None
    source: str | None = None


def _audit(
    conn: Connection, actor: str | None, action: str, object: str, before: Any, after: Any, now: int
) -> None:
    audit.record(conn, actor or SYSTEM_ACTOR, action, object, before, after, ts_ms=now)


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class IncidentDesk:
    def __init__(
        self,
        engine: Engine,
        bus: Bus,
        settings: IncidentSettings | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        locate: Locate | None = None,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.clock = clock
        self.locate = locate
        self.configure(settings or IncidentSettings())
        self._area_tree: AreaTree | None = None
        self._unsubscribes: list[Unsubscribe] = []

    def configure(self, settings: IncidentSettings) -> None:
        self.settings = settings
        self.attachments = AttachmentFolder(settings.attachments_dir, settings.max_attachment_bytes)

    def attach(self) -> None:
        self._unsubscribes = [self.bus.subscribe(AlertRaised.subject, self._on_alert)]

    def detach(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes = []

    async def run_timer(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sla_check_seconds)
            await self.check_sla()

    async def _publish(self, events: list[Event]) -> None:
        for event in events:
            await self.bus.publish(event)

    async def _run(self, work: Callable[[Connection, int], tuple[Any, list[Event]]]) -> Any:
        """Run `work` in one transaction off the event loop, then publish the events it produced."""

        def transaction() -> tuple[Any, list[Event]]:
            with write_transaction(self.engine) as conn:
                return work(conn, self.clock())

        result, events = await anyio.to_thread.run_sync(transaction)
        await self._publish(events)
        return result

    # --- creating ----------------------------------------------------------------------------------
    async def open(
        self,
        new: NewIncident,
        actor: str | None = None,
        within: Callable[[Connection, dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Open an incident; `within(conn, incident)` runs in the same transaction (a domain recording
        what the incident came from, with its audit entry), and its failure opens nothing."""
        if new.lon is not None and new.lat is not None and self.locate is not None and new.area_code is None:
            new = replace(
                new,
                area_code=self.locate(new.lon, new.lat, "2025"),
                legacy_area_code=self.locate(new.lon, new.lat, "legacy"),
            )

        def work(conn: Connection, now: int) -> tuple[Any, list[Event]]:
            row, event = self._insert(conn, new, actor, now)
            opened = incident_to_dict(row)
            if within is not None:
                within(conn, opened)
            return opened, [event]

        return dict(await self._run(work))

    def _insert(
        self, conn: Connection, new: NewIncident, actor: str | None, now: int
    ) -> tuple[Row[Any], Event]:
        sla = self.settings.sla.get(new.severity, SlaTarget())
        incident_id = conn.execute(
            insert(incidents).values(
                **asdict(new),
                state="new",
                created_ms=now,
                updated_ms=now,
                acknowledge_due_ms=due_at(now, sla.acknowledge_minutes),
                resolve_due_ms=due_at(now, sla.resolve_minutes),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        record_history(conn, incident_id, now, "created", None, "new", actor)
        row = fetch_incident(conn, incident_id)
        _audit(conn, actor, "incident.create", f"incident:{incident_id}", None, incident_to_dict(row), now)
        return row, changed_event(row, "created", now)

    # --- reading -----------------------------------------------------------------------------------
    async def get(self, incident_id: int) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                row = fetch_incident(conn, incident_id)
                detail = incident_to_dict(row)
                detail["history"] = [
                    history_to_dict(h)
                    for h in conn.execute(
                        select(incident_history)
                        .where(incident_history.c.incident_id == incident_id)
                        .order_by(incident_history.c.id)
                    )
                ]
                detail["alerts"] = [
                    {
                        "id": a.id,
                        "rule_id": a.rule_id,
                        "source": a.source,
                        "severity": a.severity,
                        "raised": iso(a.raised_ms),
                        "cleared": iso(a.cleared_ms),
                    }
                    for a in conn.execute(
                        select(alerts).where(alerts.c.incident_id == incident_id).order_by(alerts.c.id)
                    )
                ]
                detail["attachments"] = [
                    attachment_to_dict(a)
                    for a in conn.execute(
                        select(incident_attachments)
                        .where(incident_attachments.c.incident_id == incident_id)
                        .order_by(incident_attachments.c.id)
                    )
                ]
                return detail

        return await anyio.to_thread.run_sync(read)

    async def history(self, incident_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with self.engine.connect() as conn:
                fetch_incident(conn, incident_id)
                query = select(incident_history).where(incident_history.c.incident_id == incident_id)
                if kind is not None:
                    query = query.where(incident_history.c.kind == kind)
                return [history_to_dict(h) for h in conn.execute(query.order_by(incident_history.c.id))]

        return await anyio.to_thread.run_sync(read)

    async def search(
        self,
        where: IncidentFilter,
        limit: int = 100,
        offset: int = 0,
        narrow: Callable[[Select[Any]], Select[Any]] | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Incidents matching `where`, newest first, and how many match in all; `narrow` further limits
        the query (the API keeps an agency officer to its scope with it)."""

        def read() -> tuple[int, list[dict[str, Any]]]:
            conditions: list[ColumnElement[bool]] = []
            if where.states:
                conditions.append(incidents.c.state.in_(where.states))
            if where.severities:
                conditions.append(incidents.c.severity.in_(where.severities))
            if where.source is not None:
                conditions.append(incidents.c.source == where.source)
            if where.escalated is not None:
                column = incidents.c.escalation
                conditions.append(column.is_not(None) if where.escalated else column.is_(None))
            with self.engine.connect() as conn:
                if where.area is not None:
                    codes = self.areas_under(conn, where.area)
                    conditions.append(
                        incidents.c.area_code.in_(codes) | incidents.c.legacy_area_code.in_(codes)
                    )
                query = select(incidents).where(*conditions)
                if narrow is not None:
                    query = narrow(query)
                total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
                rows = conn.execute(
                    query.order_by(incidents.c.created_ms.desc(), incidents.c.id.desc())
                    .limit(limit)
                    .offset(offset)
                ).all()
            return int(total), [incident_to_dict(row) for row in rows]

        result: tuple[int, list[dict[str, Any]]] = await anyio.to_thread.run_sync(read)
        return result

    def areas_under(self, conn: Connection, code: str) -> list[str]:
        if self._area_tree is None or code not in self._area_tree.parents:
            self._area_tree = AreaTree.load(conn)
        return sorted(self._area_tree.descendants(code))

    # --- changing ----------------------------------------------------------------------------------
    async def transition(
        self,
        incident_id: int,
        to: str,
        actor: str | None = None,
        note: str | None = None,
        agency: str | None = None,
        guard: Guard | None = None,
    ) -> dict[str, Any]:
        if to not in STATES:
            raise IncidentFieldError("to", f"unknown state {to!r}; states: {list(STATES)}")
        if to == "assigned" and not (agency and agency.strip()):
            raise IncidentFieldError("agency", "is required to assign an incident to an agency")

        def work(conn: Connection, now: int) -> tuple[Any, list[Event]]:
            row = fetch_incident(conn, incident_id)
            if guard is not None:
                guard(row)
            if to not in TRANSITIONS[row.state]:
                raise IllegalTransition(row.state, to)
            values: dict[str, Any] = {"state": to, "updated_ms": now}
            if to == "assigned":
                values["agency"] = agency
            elif to == "resolved":
                values["resolved_ms"] = now
            elif to == "closed":
                values["closed_ms"] = now
            elif to == "reopened":
                sla = self.settings.sla.get(row.severity, SlaTarget())
                values.update(
                    resolved_ms=None,
                    closed_ms=None,
                    escalation=None,
                    escalated_ms=None,
                    acknowledge_due_ms=due_at(now, sla.acknowledge_minutes),
                    resolve_due_ms=due_at(now, sla.resolve_minutes),
                )
            changed = conn.execute(
                update(incidents)
                .where(incidents.c.id == incident_id, incidents.c.state == row.state)
                .values(**values)
            ).rowcount
            if changed != 1:  # someone else moved it meanwhile
                raise IllegalTransition(fetch_incident(conn, incident_id).state, to)
            data = {"agency": agency} if to == "assigned" else None
            record_history(conn, incident_id, now, "transition", row.state, to, actor, note, data)
            updated = fetch_incident(conn, incident_id)
            after = incident_to_dict(updated)
            _audit(
                conn,
                actor,
                "incident.transition",
                f"incident:{incident_id}",
                incident_to_dict(row),
                after,
                now,
            )
            return after, [changed_event(updated, "transition", now, from_state=row.state)]

        return dict(await self._run(work))

    async def comment(
        self, incident_id: int, text: str, actor: str | None = None, guard: Guard | None = None
    ) -> dict[str, Any]:
        if not text.strip():
            raise IncidentFieldError("text", "must not be empty")

        def work(conn: Connection, now: int) -> tuple[Any, list[Event]]:
            row = fetch_incident(conn, incident_id)
            if guard is not None:
                guard(row)
            entry_id = record_history(conn, incident_id, now, "comment", None, None, actor, text)
            conn.execute(update(incidents).where(incidents.c.id == incident_id).values(updated_ms=now))
            entry = history_to_dict(
                conn.execute(select(incident_history).where(incident_history.c.id == entry_id)).one()
            )
            _audit(conn, actor, "incident.comment", f"incident:{incident_id}", None, entry, now)
            return entry, [changed_event(row, "comment", now)]

        return dict(await self._run(work))

    async def attach_file(
        self,
        incident_id: int,
        source: BinaryIO,
        filename: str,
        actor: str | None,
        guard: Guard | None = None,
    ) -> dict[str, Any]:
        def work(conn: Connection, now: int) -> tuple[Any, list[Event]]:
            row = fetch_incident(conn, incident_id)
            if guard is not None:
                guard(row)
            saved: SavedFile = self.attachments.save(source, filename)
            try:
                attachment_id = conn.execute(
                    insert(incident_attachments).values(
                        incident_id=incident_id,
                        stored_name=saved.stored_name,
                        original_name=saved.original_name,
                        content_type=saved.content_type,
                        size=saved.size,
                        sha256=saved.sha256,
                        uploaded_ms=now,
                        actor=actor,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                data = {"attachment_id": attachment_id, "name": saved.original_name}
                record_history(conn, incident_id, now, "attachment", None, None, actor, None, data)
                conn.execute(update(incidents).where(incidents.c.id == incident_id).values(updated_ms=now))
                stored = attachment_to_dict(
                    conn.execute(
                        select(incident_attachments).where(incident_attachments.c.id == attachment_id)
                    ).one()
                )
                _audit(conn, actor, "incident.attachment", f"incident:{incident_id}", None, stored, now)
            except Exception:
                self.attachments.remove(saved.stored_name)
                raise
            return stored, [changed_event(row, "attachment", now)]

        return dict(await self._run(work))

    async def attachment_file(self, incident_id: int, attachment_id: int) -> tuple[Path, dict[str, Any]]:
        def read() -> tuple[Path, dict[str, Any]]:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(incident_attachments).where(
                        incident_attachments.c.id == attachment_id,
                        incident_attachments.c.incident_id == incident_id,
                    )
                ).first()
            if row is None:
                raise IncidentNotFound(f"attachment {attachment_id} of incident {incident_id}")
            return self.attachments.path_of(row.stored_name), attachment_to_dict(row)

        return await anyio.to_thread.run_sync(read)

    async def attachments_of(self, incident_id: int) -> list[dict[str, Any]]:
        return list((await self.get(incident_id))["attachments"])

    # --- alerts ------------------------------------------------------------------------------------
    async def link_alert(
        self, alert_id: int, incident_id: int | None, actor: str | None = None
    ) -> dict[str, Any]:
        """Attach an alert to an incident: the given one (join), or a new one made from the alert (open)."""

        def work(conn: Connection, now: int) -> tuple[Any, list[Event]]:
            alert = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
            if alert is None:
                raise IncidentNotFound(f"alert {alert_id}")
            if alert.incident_id is not None:
                if incident_id in (None, alert.incident_id):
                    return incident_to_dict(fetch_incident(conn, alert.incident_id)), []
                raise IncidentConflict(f"alert {alert_id} already belongs to incident {alert.incident_id}")
            return self._link(conn, alert, incident_id, actor, now)

        return dict(await self._run(work))

    def _link(
        self, conn: Connection, alert: Row[Any], incident_id: int | None, actor: str | None, now: int
    ) -> tuple[dict[str, Any], list[Event]]:
        events: list[Event] = []
        if incident_id is None:
            row, event = self._insert(conn, from_alert(alert), actor, now)
            incident_id = row.id
            events.append(event)
        else:
            row = fetch_incident(conn, incident_id)
            if row.state == "closed":
                raise IncidentConflict(f"incident {incident_id} is closed; reopen it before adding alerts")
        conn.execute(update(alerts).where(alerts.c.id == alert.id).values(incident_id=incident_id))
        _audit(
            conn,
            actor,
            "alert.link",
            f"alert:{alert.id}",
            {"incident_id": None},
            {"incident_id": incident_id},
            now,
        )
        data = {"alert_id": alert.id, "rule_id": alert.rule_id, "source": alert.source}
        record_history(conn, incident_id, now, "alert", None, None, actor, None, data)
        if not events:
            conn.execute(update(incidents).where(incidents.c.id == incident_id).values(updated_ms=now))
            events.append(changed_event(row, "alert", now))
        return incident_to_dict(fetch_incident(conn, incident_id)), events

    async def _on_alert(self, event: Event) -> None:
        if isinstance(event, AlertCleared):
            await self._run(lambda conn, now: (None, self._note_cleared(conn, event, now)))
        elif isinstance(event, AlertRaised) and event.opens_incident:
            await self._run(lambda conn, now: (None, self._open_or_join(conn, event, now)))

    def _open_or_join(self, conn: Connection, event: AlertRaised, now: int) -> list[Event]:
        """A rule that opens incidents joins the active incident of an earlier alert of the same rule and
        source (a flapping condition), or opens a new one."""
        alert = conn.execute(select(alerts).where(alerts.c.id == event.alert_id)).first()
        if alert is None or alert.incident_id is not None:
            return []
        active = conn.execute(
            select(incidents.c.id)
            .select_from(incidents.join(alerts, alerts.c.incident_id == incidents.c.id))
            .where(
                alerts.c.rule_id == event.rule_id,
                alerts.c.source == event.source,
                incidents.c.state.in_(ACTIVE),
            )
            .order_by(incidents.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return self._link(conn, alert, active, "rules", now)[1]

    def _note_cleared(self, conn: Connection, event: AlertCleared, now: int) -> list[Event]:
        incident_id = conn.execute(
            select(alerts.c.incident_id).where(alerts.c.id == event.alert_id)
        ).scalar_one_or_none()
        if incident_id is None:
            return []
        data = {"alert_id": event.alert_id, "reason": event.reason}
        record_history(conn, incident_id, now, "alert_cleared", None, None, "rules", None, data)
        return [changed_event(fetch_incident(conn, incident_id), "alert_cleared", now)]

    # --- SLA ---------------------------------------------------------------------------------------
    async def check_sla(self) -> list[int]:
        """Escalate active incidents whose acknowledge or resolve deadline has passed; returns their ids."""

        def work(conn: Connection, now: int) -> tuple[Any, list[Event]]:
            escalated: list[int] = []
            events: list[Event] = []
            stages = (
                ("acknowledge", incidents.c.acknowledge_due_ms, ("new", "reopened"), (None,)),
                ("resolve", incidents.c.resolve_due_ms, ACTIVE, (None, "acknowledge")),
            )
            # An incident escalates once per stage; a missed acknowledgement may be followed by a missed
            # resolution.
            for stage, due, states, before in stages:
                rows = conn.execute(
                    select(incidents.c.id).where(
                        incidents.c.state.in_(states),
                        due.is_not(None),
                        due <= now,
                        or_(
                            *(
                                incidents.c.escalation.is_(None) if e is None else incidents.c.escalation == e
                                for e in before
                            )
                        ),
                    )
                ).all()
                for (incident_id,) in rows:
                    conn.execute(
                        update(incidents)
                        .where(incidents.c.id == incident_id)
                        .values(escalation=stage, escalated_ms=now, updated_ms=now)
                    )
                    row = fetch_incident(conn, incident_id)
                    record_history(
                        conn, incident_id, now, "escalation", None, None, "sla", None, {"stage": stage}
                    )
                    events.append(changed_event(row, "escalated", now))
                    escalated.append(incident_id)
            return escalated, events

        result: list[int] = await self._run(work)
        return result
