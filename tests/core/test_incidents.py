"""Incidents: SLA deadlines per severity and escalation, alerts opening or joining incidents (by hand and
from a rule), comments, and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from sqlalchemy import select

from cityops.core.bus import InProcessBus
from cityops.core.domain import EntityType, MetricSpec
from cityops.core.entities import EntityRegistry
from cityops.core.events import Event, IncidentChanged, ObservationsRecorded
from cityops.core.incidents.desk import (
    IllegalTransition,
    IncidentConflict,
    IncidentDesk,
    IncidentFieldError,
    IncidentFilter,
    IncidentSettings,
    NewIncident,
    SlaTarget,
)
from cityops.core.rules.engine import RuleCatalogue, RuleEngine
from cityops.core.schema import metadata
from cityops.core.schema_operations import alerts
from cityops.core.store import open_engine

BASE = 1_790_000_000_000
MINUTE = 60_000
CAMERA = EntityType(
    "Camera", {"vi": "Camera"}, "#e8590c", (MetricSpec("occupancy", "%", {"vi": "Độ chiếm dụng"}),)
)


class Room:
    """An operations room on a hand-set clock: store, bus, rule engine and incident desk."""

    def __init__(self, folder: Path, portal: anyio.from_thread.BlockingPortal) -> None:
        self.portal = portal
        self.engine = open_engine(f"sqlite:///{folder / 'room.sqlite'}")
        metadata.create_all(self.engine)
        self.registry = EntityRegistry(self.engine)
        self.registry.register_types([CAMERA])
        self.camera, _ = self.registry.upsert("urn:ngsi-ld:Camera:tdm-001", "Ngã tư Chợ Đình", 106.65, 10.98)
        self.now = BASE
        self.bus = InProcessBus()
        self.changes: list[IncidentChanged] = []
        self.bus.subscribe("incidents", self._collect)
        settings = IncidentSettings(attachments_dir=folder / "files")
        self.desk = IncidentDesk(self.engine, self.bus, settings, clock=lambda: self.now)
        self.desk.attach()
        self.rules = RuleEngine(
            self.engine, self.bus, RuleCatalogue({"Camera": CAMERA}, {}, {}), clock=lambda: self.now
        )
        self.rules.attach()
        self.batch = 0

    async def _collect(self, event: Event) -> None:
        if isinstance(event, IncidentChanged):
            self.changes.append(event)

    def call(self, function: Any, *args: Any) -> Any:
        return self.portal.call(function, *args)

    def occupancy(self, minute: int, value: float) -> None:
        metric_id = self.registry.metric_id("Camera", "occupancy")
        assert metric_id is not None
        self.batch += 1
        self.now = BASE + minute * MINUTE
        event = ObservationsRecorded(
            self.batch, self.now, 1, (), ((self.camera.id, metric_id, self.now, value),)
        )
        self.call(self.bus.publish, event)

    def alerts(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(alerts).order_by(alerts.c.id)))


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield Room(tmp_path, portal)


def open_one(room: Room, severity: str = "high") -> dict[str, Any]:
    incident: dict[str, Any] = room.call(
        room.desk.open, NewIncident("Cây đổ chắn đường", severity, "traffic"), "op"
    )  # type: ignore[arg-type]
    return incident


def test_sla_deadlines_follow_severity_and_escalate_once_per_stage(room: Room) -> None:
    high = open_one(room, "high")  # 15 min to acknowledge, 4 h to resolve
    info = open_one(room, "informational")  # no deadline
    assert (high["acknowledge_due"], high["resolve_due"]) == (
        "2026-09-21T14:28:20.000Z",
        "2026-09-21T18:13:20.000Z",
    )
    assert info["acknowledge_due"] is None
    room.now = BASE + 15 * MINUTE - 1
    assert room.call(room.desk.check_sla) == []
    room.now = BASE + 15 * MINUTE
    assert room.call(room.desk.check_sla) == [high["id"]]
    assert room.call(room.desk.check_sla) == []
    assert [(c.change, c.escalation) for c in room.changes if c.incident_id == high["id"]][-1] == (
        "escalated",
        "acknowledge",
    )
    room.call(room.desk.transition, high["id"], "acknowledged", "op")
    room.now = BASE + 240 * MINUTE
    assert room.call(room.desk.check_sla) == [high["id"]]
    detail = room.call(room.desk.get, high["id"])
    assert (detail["escalation"], detail["escalated"]) == ("resolve", "2026-09-21T18:13:20.000Z")
    assert [h["data"]["stage"] for h in detail["history"] if h["kind"] == "escalation"] == [
        "acknowledge",
        "resolve",
    ]
    _, escalated = room.call(room.desk.search, IncidentFilter(escalated=True))
    assert [i["id"] for i in escalated] == [high["id"]]


def test_reopening_restarts_the_clock(room: Room) -> None:
    room.desk.configure(IncidentSettings(sla={"high": SlaTarget(acknowledge_minutes=1, resolve_minutes=10)}))
    incident = open_one(room)
    for to in ("acknowledged", "assigned", "resolved"):
        room.call(room.desk.transition, incident["id"], to, "op", None, "CSGT")
    room.now = BASE + 60 * MINUTE
    assert room.call(room.desk.check_sla) == []  # resolved: no deadline left
    reopened = room.call(room.desk.transition, incident["id"], "reopened", "op", "vẫn còn cây")
    assert (reopened["resolved"], reopened["escalation"]) == (None, None)
    assert (
        reopened["acknowledge_due"] == "2026-09-21T15:14:20.000Z"
    )  # reopened at +60 min, 1 min to acknowledge
    room.now += MINUTE
    assert room.call(room.desk.check_sla) == [incident["id"]]


def test_assigning_needs_an_agency_and_illegal_moves_name_from_and_to(room: Room) -> None:
    incident = open_one(room)
    with pytest.raises(IllegalTransition) as refused:
        room.call(room.desk.transition, incident["id"], "resolved", "op")
    assert (refused.value.from_state, refused.value.to_state, refused.value.allowed) == (
        "new",
        "resolved",
        ["acknowledged"],
    )
    room.call(room.desk.transition, incident["id"], "acknowledged", "op")
    with pytest.raises(IncidentFieldError) as missing:
        room.call(room.desk.transition, incident["id"], "assigned", "op", None, "  ")
    assert missing.value.field == "agency"
    assigned = room.call(
        room.desk.transition, incident["id"], "assigned", "op", None, "Công an phường Phú Cường"
    )
    assert assigned["agency"] == "Công an phường Phú Cường"


def test_comments_are_kept_in_the_audit_trail(room: Room) -> None:
    incident = open_one(room)
    comment = room.call(room.desk.comment, incident["id"], "Đã cử tổ tuần tra đến hiện trường", "Trực ban")
    assert (comment["kind"], comment["actor"], comment["text"]) == (
        "comment",
        "Trực ban",
        "Đã cử tổ tuần tra đến hiện trường",
    )
    with pytest.raises(IncidentFieldError) as empty:
        room.call(room.desk.comment, incident["id"], "   ", "Trực ban")
    assert empty.value.field == "text"
    assert [h["kind"] for h in room.call(room.desk.history, incident["id"])] == ["created", "comment"]
    assert [c.change for c in room.changes] == ["created", "comment"]


def test_alerts_open_or_join_incidents_by_hand(room: Room) -> None:
    room.call(
        room.rules.create,
        {
            "id": "busy",
            "kind": "threshold",
            "title": {"vi": "Đông xe", "en": "Busy"},
            "severity": "medium",
            "category": "traffic",
            "sub_category": "trafficJam",
            "entity_type": "Camera",
            "metric": "occupancy",
            "op": ">",
            "value": 70,
        },
    )
    room.occupancy(0, 90)
    room.occupancy(1, 10)
    room.occupancy(2, 95)
    first, second = (row.id for row in room.alerts())
    opened = room.call(room.desk.link_alert, first, None, "op")
    assert (opened["title"], opened["severity"], opened["category"], opened["sub_category"]) == (
        "Đông xe — Ngã tư Chợ Đình",
        "medium",
        "traffic",
        "trafficJam",
    )
    assert opened["location"] == {"type": "Point", "coordinates": [106.65, 10.98]}
    assert opened["source"] == room.camera.urn
    assert room.call(room.desk.link_alert, first, None, "op")["id"] == opened["id"]  # idempotent
    joined = room.call(room.desk.link_alert, second, opened["id"], "op")
    assert joined["id"] == opened["id"]
    detail = room.call(room.desk.get, opened["id"])
    assert [a["id"] for a in detail["alerts"]] == [first, second]
    # the first alert had cleared before it was linked: nothing to note about it
    assert [h["kind"] for h in detail["history"]] == ["created", "alert", "alert"]
    other = open_one(room)
    with pytest.raises(IncidentConflict, match="already belongs"):
        room.call(room.desk.link_alert, first, other["id"], "op")


def test_a_rule_that_opens_incidents_joins_while_active_and_opens_anew_after(room: Room) -> None:
    room.call(
        room.rules.create,
        {
            "id": "jam",
            "kind": "threshold",
            "title": "Ùn tắc",
            "severity": "high",
            "category": "traffic",
            "sub_category": "trafficJam",
            "opens_incident": True,
            "entity_type": "Camera",
            "metric": "occupancy",
            "op": ">",
            "value": 70,
        },
    )
    room.occupancy(0, 90)  # raised: incident opened
    room.occupancy(1, 10)  # cleared: noted on the incident
    room.occupancy(2, 95)  # raised again while the incident is active: joins it
    rows = room.alerts()
    assert len(rows) == 2 and rows[0].incident_id == rows[1].incident_id is not None
    incident_id = rows[0].incident_id
    kinds = [h["kind"] for h in room.call(room.desk.history, incident_id)]
    assert kinds == ["created", "alert", "alert_cleared", "alert"]
    for to in ("acknowledged", "assigned", "resolved"):
        room.call(room.desk.transition, incident_id, to, "op", None, "CSGT")
    room.occupancy(3, 10)
    room.occupancy(4, 99)  # the earlier incident is resolved: a new one opens
    latest = room.alerts()[-1]
    assert latest.incident_id not in (None, incident_id)
    total, _ = room.call(room.desk.search, IncidentFilter(states=("new",)))
    assert total == 1
