"""The incident lifecycle as a state machine test: random sequences of transitions (legal or not), time
passing and SLA checks. Only the legal moves of the issue's lifecycle succeed, illegal ones are refused
naming from and to, and the audit trail always chains up to the current state."""

from __future__ import annotations

import shutil
import tempfile
from itertools import pairwise
from pathlib import Path
from typing import Any

import anyio.from_thread
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from cityops.core.bus import InProcessBus
from cityops.core.incidents.desk import (
    STATES,
    IllegalTransition,
    IncidentDesk,
    IncidentFieldError,
    IncidentFilter,
    NewIncident,
)
from cityops.core.schema import metadata
from cityops.core.schema_operations import incident_history
from cityops.core.store import open_engine

BASE = 1_790_000_000_000
# The issue: new → acknowledged → assigned (to an agency) → resolved → closed, reopened from resolved or
# closed; an assigned incident may be handed to another agency; a reopened one is taken up again.
PATH = ["new", "acknowledged", "assigned", "resolved", "closed"]
LEGAL = {
    *pairwise(PATH),
    ("assigned", "assigned"),
    ("resolved", "reopened"),
    ("closed", "reopened"),
    ("reopened", "acknowledged"),
    ("reopened", "assigned"),
}


class IncidentLifecycle(RuleBasedStateMachine):
    incidents = Bundle("incidents")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.engine = open_engine(f"sqlite:///{self.folder / 'lifecycle.sqlite'}")
        metadata.create_all(self.engine)
        self.now = BASE
        self.desk = IncidentDesk(self.engine, InProcessBus(), clock=lambda: self.now)
        self._portal_context = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_context.__enter__()
        self.state: dict[int, str] = {}
        self.successes: dict[int, int] = {}

    def teardown(self) -> None:
        self._portal_context.__exit__(None, None, None)
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(target=incidents, severity=st.sampled_from(["critical", "high", "medium", "low", "informational"]))
    def open_incident(self, severity: Any) -> int:
        created = self.portal.call(self.desk.open, NewIncident("Sự cố", severity, "traffic"), "tester")
        self.state[created["id"]] = "new"
        self.successes[created["id"]] = 0
        return int(created["id"])

    @rule(
        incident=incidents,
        to=st.sampled_from(STATES),
        agency=st.one_of(st.none(), st.just(""), st.sampled_from(["CSGT Thủ Dầu Một", "Sở Xây dựng"])),
    )
    def move(self, incident: int, to: str, agency: str | None) -> None:
        current = self.state[incident]
        legal = (current, to) in LEGAL
        try:
            result = self.portal.call(self.desk.transition, incident, to, "tester", "ghi chú", agency)
        except IllegalTransition as refused:
            assert not legal
            assert (refused.from_state, refused.to_state) == (current, to)
            return
        except IncidentFieldError as refused:
            assert refused.field == "agency" and to == "assigned" and not agency
            return
        assert legal, f"{current} → {to} should have been refused"
        assert to != "assigned" or result["agency"] == agency
        self.state[incident] = to
        self.successes[incident] += 1

    @rule(incident=incidents)
    def step_forward(self, incident: int) -> None:
        """Mostly random moves seldom get far: this one walks the lifecycle so later states get explored."""
        forward = {
            "new": "acknowledged",
            "acknowledged": "assigned",
            "assigned": "resolved",
            "resolved": "closed",
        }
        self.move(incident, forward.get(self.state[incident], "reopened"), "Sở Giao thông Vận tải")

    @rule(minutes=st.integers(1, 300))
    def time_passes(self, minutes: int) -> None:
        self.now += minutes * 60_000
        self.portal.call(self.desk.check_sla)

    @invariant()
    def history_chains_to_the_current_state(self) -> None:
        if not self.state:
            return
        _, listed = self.portal.call(self.desk.search, IncidentFilter(), 1000)
        details = {item["id"]: item for item in listed}
        with self.engine.connect() as conn:
            rows = conn.execute(select(incident_history).order_by(incident_history.c.id)).all()
        for incident, state in self.state.items():
            history = [row for row in rows if row.incident_id == incident]
            moves = [(h.from_state, h.to_state) for h in history if h.kind in ("created", "transition")]
            assert moves[0] == (None, "new")
            assert all(before[1] == after[0] for before, after in pairwise(moves))
            assert moves[-1][1] == state
            assert len(moves) - 1 == self.successes[incident]
            assert all(move in LEGAL for move in moves[1:])
            detail = details[incident]
            assert detail["state"] == state
            assert detail["allowed_transitions"] == sorted(b for a, b in LEGAL if a == state)
            # Escalations since the incident was last (re)opened match the escalation field.
            last_open = max(i for i, h in enumerate(history) if h.to_state in ("new", "reopened"))
            stages = [h.data["stage"] for h in history[last_open:] if h.kind == "escalation"]
            assert stages in ([], ["acknowledge"], ["resolve"], ["acknowledge", "resolve"])
            assert detail["escalation"] == (stages[-1] if stages else None)


IncidentLifecycle.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
TestIncidentLifecycle = IncidentLifecycle.TestCase
