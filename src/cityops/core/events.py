"""Typed events carried by the bus. Each one serialises to a JSON-ready dict so a networked bus
(NATS JetStream) carries exactly what the in-process bus hands to subscribers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Event:
    subject: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    entity: str
    type: str
    name: str
    metric: str
    ts_ms: int
    value: float


@dataclass(frozen=True, slots=True)
class ObservationsRecorded(Event):
    """A batch has been stored: `sample` holds the newest point of up to `SAMPLE_LIMIT` series."""

    subject: ClassVar[str] = "observations"
    SAMPLE_LIMIT: ClassVar[int] = 50

    batch_id: int
    received_ms: int
    points: int
    sample: tuple[SeriesPoint, ...] = field(default_factory=tuple)
    # (entity id, metric id, ts_ms, value) of the newest point of *every* series in the batch, with the
    # store's ids: what the rule engine evaluates, once per series per batch.
    newest: tuple[tuple[int, int, int, float], ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class EntityUpserted(Event):
    subject: ClassVar[str] = "entities"

    urn: str
    type: str
    name: str
    lon: float | None
    lat: float | None
    area_code: str | None


@dataclass(frozen=True, slots=True)
class AlertRaised(Event):
    """A rule's condition began for `source` (an entity URN or an indicator id); one open alert per pair."""

    subject: ClassVar[str] = "alerts"

    alert_id: int
    rule_id: str
    source: str
    source_name: str
    severity: str
    category: str
    sub_category: str | None
    title: dict[str, str]
    description: dict[str, str]
    value: float | None
    raised_ms: int
    area_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    opens_incident: bool = False


@dataclass(frozen=True, slots=True)
class AlertCleared(Event):
    subject: ClassVar[str] = "alerts"

    alert_id: int
    rule_id: str
    source: str
    cleared_ms: int
    reason: str


@dataclass(frozen=True, slots=True)
class IncidentChanged(Event):
    """An incident was created or changed; `change` says how (created, transition, comment, attachment,
    alert, alert_cleared, escalated)."""

    subject: ClassVar[str] = "incidents"

    incident_id: int
    change: str
    state: str
    severity: str
    title: str
    ts_ms: int
    from_state: str | None = None
    escalation: str | None = None
    area_code: str | None = None
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True, slots=True)
class RuleChanged(Event):
    """An alert rule was created, replaced or deleted (through the API or the configuration file): the
    other processes of a cluster read it again from the store."""

    subject: ClassVar[str] = "rules"

    rule_id: str
