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


@dataclass(frozen=True, slots=True)
class EntityUpserted(Event):
    subject: ClassVar[str] = "entities"

    urn: str
    type: str
    name: str
    lon: float | None
    lat: float | None
    area_code: str | None
