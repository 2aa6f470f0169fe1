"""Status-change events and ratings arriving one by one (REST webhook, NDJSON stream).

A batch is applied in order in one transaction and, like a file, all or nothing: a transition the
lifecycle does not allow, an event dated before the receipt or in the future, or an unknown dossier
refuses the whole batch with an error naming the event and the field. Events older than the dossier's
current status only fill what is missing (see `lifecycle`); repeated events change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, insert

from cityops.services.catalogue import UnknownProcedureError
from cityops.services.dossiers.lifecycle import (
    EventOrderError,
    Finding,
    StatusEvent,
    TransitionError,
    apply_status_event,
)
from cityops.services.dossiers.model import Rating
from cityops.services.dossiers.records import C, Record, dossier_of, facts_of_record, record_of
from cityops.services.importing.bulk import FUTURE_SLACK_S, ImportContext, RowProblem, Update
from cityops.services.schema import findings as findings_table
from cityops.services.store import fetch_records, update_records
from cityops.services.timing.periods import timestamp


class RatingEvent(BaseModel):
    """A citizen's rating of a dossier (1 unsatisfied, 2 satisfied, 3 very satisfied) and/or a complaint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    rating: Rating | None = None
    complained: bool | None = None


@dataclass
class EventsReport:
    events: int = 0
    changed: int = 0
    unchanged: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "findings": self.findings,
        }


class EventsRefused(ValueError):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__("; ".join(f"event {p.row} {p.field}: {p.message}" for p in problems[:5]))
        self.problems = problems


def parse_status_events(items: Sequence[Any]) -> list[StatusEvent]:
    return _parse(items, StatusEvent)


def parse_ratings(items: Sequence[Any]) -> list[RatingEvent]:
    return _parse(items, RatingEvent)


T = TypeVar("T", bound=BaseModel)


def _parse(items: Sequence[Any], model: type[T]) -> list[T]:
    parsed: list[T] = []
    problems: list[RowProblem] = []
    for number, item in enumerate(items, start=1):
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as error:
            code = item.get("code") if isinstance(item, dict) else None
            for detail in error.errors():
                name = ".".join(str(p) for p in detail["loc"]) or "event"
                message = str(detail["msg"]).removeprefix("Value error, ")
                problems.append(RowProblem(number, code if isinstance(code, str) else None, name, message))
    if problems:
        raise EventsRefused(problems)
    return parsed


def apply_events(
    conn: Connection,
    context: ImportContext,
    events: Sequence[StatusEvent | RatingEvent],
    source: str = "events",
) -> tuple[EventsReport, list[Update]]:
    """Apply `events` in order in `conn`'s transaction; raises `EventsRefused` (the caller rolls back)."""
    stored = fetch_records(conn, {e.code for e in events})
    pending: dict[str, tuple[Record, Record]] = {}
    report = EventsReport(events=len(events))
    problems: list[RowProblem] = []
    noticed: list[tuple[str, Finding]] = []
    for number, event in enumerate(events, start=1):
        original, current = pending.get(event.code) or (stored.get(event.code),) * 2
        if original is None or current is None:
            problems.append(
                RowProblem(number, event.code, "code", f"dossier {event.code} is not known; import it first")
            )
            continue
        try:
            updated, found = _apply_one(context, current, event)
        except (TransitionError, EventOrderError, UnknownProcedureError, ValueError) as error:
            field_name, _, message = str(error).partition(": ")
            problems.append(
                RowProblem(number, event.code, field_name if message else "event", message or field_name)
            )
            continue
        noticed.extend((event.code, f) for f in found)
        if updated == current:
            report.unchanged += 1
        else:
            report.changed += 1
            pending[event.code] = (original, updated)
    if problems:
        raise EventsRefused(problems)
    changed = [(old, new) for old, new in pending.values() if old != new]
    update_records(conn, [new for _, new in changed])
    rows = [
        {
            "dossier_code": code,
            "kind": f.kind,
            "field": f.field,
            "message": f.message,
            "severity": f.severity,
            "source": source[:200],
            "recorded_ms": context.now_s * 1000,
        }
        for code, f in noticed
        if f.severity == "warning"
    ]
    if rows:
        conn.execute(insert(findings_table), rows)
    report.findings = [
        {"code": code, "kind": f.kind, "severity": f.severity, "msg": f.message} for code, f in noticed
    ]
    return report, [(facts_of_record(old), facts_of_record(new)) for old, new in changed]


def _apply_one(
    context: ImportContext, record: Record, event: StatusEvent | RatingEvent
) -> tuple[Record, tuple[Finding, ...]]:
    dossier = dossier_of(record)
    if isinstance(event, RatingEvent):
        if record[C["received_at"]] is None:
            raise ValueError(f"rating: dossier {event.code} has not been received; it cannot be rated yet")
        changes: dict[str, Any] = {}
        if event.rating is not None:
            changes["rating"] = event.rating
        if event.complained is not None:
            changes["complained"] = event.complained
        return record_of(dossier.model_copy(update=changes)), ()
    if timestamp("at", event.at) > context.now_s + FUTURE_SLACK_S:
        raise ValueError(f"at: {event.at.isoformat()} is in the future")
    applied = apply_status_event(dossier, event, catalogue=context.catalogue, calendar=context.calendar)
    return record_of(applied.dossier), applied.findings
