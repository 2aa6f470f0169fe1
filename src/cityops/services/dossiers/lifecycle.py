"""Applying status events to a dossier, and checking its due date against the working calendar.

Rules:
- A transition the lifecycle does not allow (anything out of a terminal status, back to `receiving`,
  `processing` before receipt...) raises `TransitionError`; an event dated before the receipt raises
  `EventOrderError`; an unknown procedure raises `UnknownProcedureError`.
- Events may arrive out of order. The status is the one of the newest event (by `at`; at equal times
  the one further along the lifecycle). An older event arriving after a newer one never changes the
  status: it only fills the receipt date if that is still empty, and is reported as a `stale_event`
  finding. Repeating the current status is a no-op.
- The due date in force is the source's. The calendar's due date is computed beside it; a difference
  is reported as a finding, never silently overwritten. Only when the source gives none does the
  calendar's value fill it (`due_origin = "calendar"`, reported). After a supplement, when the source
  sends no new due date, the due date is moved later by the working time the dossier waited (reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from cityops.services.catalogue import Catalogue, Procedure
from cityops.services.dossiers.model import (
    Dossier,
    DossierStatus,
    StatusField,
    Supplement,
    VnDatetime,
    parse_dossier_code,
)
from cityops.services.timing.calendar import ZERO, WorkingCalendar

S = DossierStatus
ALLOWED: dict[DossierStatus, frozenset[DossierStatus]] = {
    S.RECEIVING: frozenset({S.NEW, S.WAITING, S.DENIED, S.CANCELLED}),
    S.NEW: frozenset(
        {S.PROCESSING, S.WAITING, S.PAYING, S.RELEASING, S.DONE, S.DENIED, S.CANCELLED, S.UNRESOLVED}
    ),
    S.PROCESSING: frozenset({S.WAITING, S.PAYING, S.RELEASING, S.DONE, S.DENIED, S.CANCELLED, S.UNRESOLVED}),
    S.WAITING: frozenset({S.NEW, S.PROCESSING, S.PAYING, S.DENIED, S.CANCELLED, S.UNRESOLVED}),
    S.PAYING: frozenset({S.PROCESSING, S.WAITING, S.RELEASING, S.DONE, S.CANCELLED, S.UNRESOLVED}),
    S.RELEASING: frozenset({S.DONE, S.PAYING, S.PROCESSING}),
    S.DENIED: frozenset(),
    S.CANCELLED: frozenset(),
    S.UNRESOLVED: frozenset(),
    S.DONE: frozenset(),
}
# Progress along the lifecycle, to order events that carry the same timestamp.
_RANK = {
    S.RECEIVING: 0,
    S.NEW: 1,
    S.PROCESSING: 2,
    S.WAITING: 3,
    S.PAYING: 3,
    S.RELEASING: 4,
    S.DENIED: 5,
    S.CANCELLED: 5,
    S.UNRESOLVED: 5,
    S.DONE: 5,
}
_END_DATE = {
    S.DENIED: "refused_at",
    S.CANCELLED: "cancelled_at",
    S.UNRESOLVED: "stopped_at",
    S.RELEASING: "finished_at",
    S.DONE: "returned_at",
}


class StatusEvent(BaseModel):
    """A status change reported by the one-stop system, optionally with the due date it set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    status: StatusField
    at: VnDatetime
    due_at: VnDatetime | None = None
    supplement_deadline: VnDatetime | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # due_mismatch, due_time_differs, due_computed, due_extended, stale_event, duplicate_event...
    field: str
    message: str
    severity: Literal["info", "warning"] = "warning"


@dataclass(frozen=True, slots=True)
class Applied:
    dossier: Dossier
    changed: bool
    findings: tuple[Finding, ...] = field(default_factory=tuple)


class TransitionError(ValueError):
    def __init__(self, code: str, current: DossierStatus, wanted: DossierStatus, why: str = "") -> None:
        reason = why or f"the lifecycle does not allow {current.portal_name} → {wanted.portal_name}"
        super().__init__(
            f"status: dossier {code} cannot go from {current.portal_name} ({current}) "
            f"to {wanted.portal_name} ({wanted}): {reason}"
        )


class EventOrderError(ValueError):
    pass


def apply_status_event(
    dossier: Dossier, event: StatusEvent, *, catalogue: Catalogue, calendar: WorkingCalendar
) -> Applied:
    """The dossier after `event`, with what was noticed on the way (see the module's rules)."""
    if event.code != dossier.code:
        raise ValueError(f"code: event for {event.code} applied to dossier {dossier.code}")
    procedure = catalogue.procedure(dossier.procedure_code)
    if _is_stale(dossier, event):
        return _apply_stale(dossier, event)
    if event.status is dossier.status:
        finding = Finding("duplicate_event", "status", f"{event.status.portal_name} repeated", "info")
        return Applied(dossier, False, (finding,))
    if event.status not in ALLOWED[dossier.status]:
        raise TransitionError(dossier.code, dossier.status, event.status)
    received = dossier.received_at
    if received is not None and event.at < received:
        raise EventOrderError(
            f"at: {event.status.portal_name} at {event.at.isoformat()} is before dossier {dossier.code} "
            f"was received at {received.isoformat()}"
        )
    if received is None and event.status not in (S.NEW, S.WAITING, S.DENIED, S.CANCELLED):
        raise TransitionError(dossier.code, dossier.status, event.status, "the dossier has not been received")

    changes: dict[str, Any] = {"status": event.status, "status_at": event.at}
    findings: list[Finding] = []
    if event.status is S.NEW and received is None:
        changes["received_at"] = received = event.at
    if event.status in _END_DATE:
        changes[_END_DATE[event.status]] = event.at
    if dossier.status is S.RELEASING and event.status is S.PROCESSING:
        changes["finished_at"] = None
        findings.append(
            Finding("reopened", "finished_at", "processing resumed after the result was ready", "info")
        )
    supplements = list(dossier.supplements)
    resumed: Supplement | None = None
    if event.status is S.WAITING:
        supplements.append(Supplement(requested_at=event.at, deadline=event.supplement_deadline))
    elif dossier.status is S.WAITING and not event.status.terminal:
        resumed = supplements[-1].model_copy(update={"provided_at": event.at})
        supplements[-1] = resumed
    changes["supplements"] = tuple(supplements)

    updated = _validated(dossier, changes)
    if received is not None:
        updated, due_findings = _settle_due(updated, event, procedure, calendar, resumed)
        findings += due_findings
    return Applied(updated, True, tuple(findings))


def expected_due(dossier: Dossier, procedure: Procedure, calendar: WorkingCalendar) -> datetime | None:
    """The calendar's due date: legal duration from receipt, extended by every supplement wait."""
    if dossier.received_at is None:
        return None
    due = calendar.due_after(dossier.received_at, procedure.duration, procedure.duration_unit)
    for supplement in dossier.supplements:
        if supplement.provided_at is not None and supplement.provided_at > dossier.received_at:
            due = calendar.extend_for_pause(
                due, max(supplement.requested_at, dossier.received_at), supplement.provided_at
            )
    return due


def compare_due(source: datetime, computed: datetime, calendar: WorkingCalendar) -> Finding | None:
    """None when both agree to the minute; otherwise a finding (a warning when the day differs)."""
    if abs((source - computed).total_seconds()) < 60:
        return None
    hours = calendar.working_time_between(computed, source).total_seconds() / 3600
    message = (
        f"source due {source.isoformat()}, calendar due {computed.isoformat()} ({hours:+.2f} working hours)"
    )
    if source.date() == computed.date():
        return Finding("due_time_differs", "due_at", message, "info")
    return Finding("due_mismatch", "due_at", message)


def check_dossier(dossier: Dossier, *, catalogue: Catalogue, calendar: WorkingCalendar) -> list[Finding]:
    """What an imported dossier disagrees with: the calendar's due date, its code, its agency's validity.
    Unknown procedures and agencies raise."""
    procedure = catalogue.procedure(dossier.procedure_code)
    findings: list[Finding] = []
    anchor = dossier.received_at or dossier.submitted_at
    catalogue.agency(dossier.agency_code, anchor.date() if anchor else None)
    code_agency, code_day, _ = parse_dossier_code(dossier.code)
    if code_agency != dossier.agency_code:
        findings.append(
            Finding(
                "code_agency", "code", f"code names agency {code_agency}, dossier says {dossier.agency_code}"
            )
        )
    days = {d.date() for d in (dossier.submitted_at, dossier.received_at) if d is not None}
    if days and code_day not in days:
        findings.append(
            Finding(
                "code_date",
                "code",
                f"code date {code_day} is neither the submission nor the receipt date",
                "info",
            )
        )
    computed = expected_due(dossier, procedure, calendar)
    if computed is not None and dossier.due_at is not None and dossier.due_origin == "source":
        finding = compare_due(dossier.due_at, computed, calendar)
        if finding:
            findings.append(finding)
    return findings


def _is_stale(dossier: Dossier, event: StatusEvent) -> bool:
    if dossier.status_at is None:
        return False
    if event.at != dossier.status_at:
        return event.at < dossier.status_at
    return _RANK[event.status] < _RANK[dossier.status]


def _apply_stale(dossier: Dossier, event: StatusEvent) -> Applied:
    message = (
        f"{event.status.portal_name} at {event.at.isoformat()} is older than the current status "
        f"{dossier.status.portal_name} at {dossier.status_at.isoformat() if dossier.status_at else '?'}"
    )
    finding = Finding("stale_event", "status", message, "info")
    if event.status is S.NEW and dossier.received_at is None:
        return Applied(_validated(dossier, {"received_at": event.at}), True, (finding,))
    return Applied(dossier, False, (finding,))


def _settle_due(
    after: Dossier,
    event: StatusEvent,
    procedure: Procedure,
    calendar: WorkingCalendar,
    resumed: Supplement | None,
) -> tuple[Dossier, list[Finding]]:
    computed = expected_due(after, procedure, calendar)
    assert computed is not None and after.received_at is not None
    if event.due_at is not None:
        updated = _validated(after, {"due_at": event.due_at, "due_origin": "source"})
        finding = compare_due(event.due_at, computed, calendar)
        return updated, [finding] if finding else []
    if after.due_at is None:
        note = Finding(
            "due_computed",
            "due_at",
            f"no due date from the source; calendar gives {computed.isoformat()}",
            "info",
        )
        return _validated(after, {"due_at": computed, "due_origin": "calendar"}), [note]
    if resumed is not None and resumed.provided_at is not None:
        start = max(resumed.requested_at, after.received_at)
        moved = calendar.extend_for_pause(after.due_at, start, resumed.provided_at)
        if calendar.working_time_between(start, resumed.provided_at) > ZERO:
            note = Finding(
                "due_extended",
                "due_at",
                f"due date moved from {after.due_at.isoformat()} to "
                f"{moved.isoformat()} for the supplement wait",
                "info",
            )
            return _validated(after, {"due_at": moved}), [note]
    return after, []


def _validated(dossier: Dossier, changes: dict[str, Any]) -> Dossier:
    data = dossier.model_dump()
    data.update(changes)
    return Dossier.model_validate(data)
