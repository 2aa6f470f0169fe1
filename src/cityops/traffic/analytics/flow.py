"""Per-interval traffic flow records shaped as Smart Data Models `TrafficFlowObserved`.

One record per counting line and direction per interval (plus one per zone that no line reports), with
`intensity` (vehicles in the interval), `occupancy` (0..1, share of time the line's zone held a vehicle),
`averageVehicleSpeed` (km/h, only where the camera is calibrated), `congested` and a congestion level.
Extensions beyond the data model are named as such in `as_smart_data_model`: `intensityByVehicleType`,
`pedestrianIntensity`, `congestionLevel`, `queueVehicles`, `queueLength`.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from cityops.traffic.analytics.counting import CountLine, Crossing
from cityops.traffic.analytics.zones import ZoneMonitor, ZoneSummary
from cityops.traffic.video.detections import TrafficClass


class CongestionLevel(IntEnum):
    FREE = 0
    BUSY = 1
    CONGESTED = 2
    JAMMED = 3


LEVEL_LABELS: Mapping[CongestionLevel, Mapping[str, str]] = {
    CongestionLevel.FREE: {"vi": "Thông thoáng", "en": "Free flow", "ja": "順調"},
    CongestionLevel.BUSY: {"vi": "Đông xe", "en": "Busy", "ja": "やや混雑"},
    CongestionLevel.CONGESTED: {"vi": "Ùn ứ", "en": "Congested", "ja": "混雑"},
    CongestionLevel.JAMMED: {"vi": "Ùn tắc nghiêm trọng", "en": "Jammed", "ja": "渋滞"},
}

# Smart Data Models `vehicleType` names for our classes.
SDM_VEHICLE_TYPES: Mapping[TrafficClass, str] = {
    TrafficClass.MOTORBIKE: "motorcycle",
    TrafficClass.CAR: "car",
    TrafficClass.BUS: "bus",
    TrafficClass.TRUCK: "lorry",
    TrafficClass.BICYCLE: "bicycle",
    TrafficClass.VEHICLE: "anyVehicle",
}


@dataclass(frozen=True)
class CongestionThresholds:
    """Each triple gives where BUSY, CONGESTED and JAMMED begin; the worst signal wins."""

    occupancy: tuple[float, float, float] = (0.3, 0.5, 0.75)
    speed_kmh: tuple[float, float, float] = (30.0, 15.0, 5.0)
    """Average speeds at or below these (decreasing)."""
    queue_vehicles: tuple[int, int, int] = (4, 8, 15)

    def __post_init__(self) -> None:
        for name, values, rising in (
            ("occupancy", self.occupancy, True),
            ("speed_kmh", self.speed_kmh, False),
            ("queue_vehicles", self.queue_vehicles, True),
        ):
            ordered = sorted(values, reverse=not rising)
            if len(values) != 3 or list(values) != ordered or len(set(values)) != 3:
                way = "increasing" if rising else "decreasing"
                raise ValueError(f"{name}: need three strictly {way} thresholds (got {values!r})")
        if not all(0 < value <= 1 for value in self.occupancy):
            raise ValueError(f"occupancy: thresholds are shares in (0, 1] (got {self.occupancy!r})")


def congestion_level(
    occupancy: float | None,
    speed_kmh: float | None,
    queue_vehicles: int | None,
    thresholds: CongestionThresholds = CongestionThresholds(),
) -> CongestionLevel:
    level = 0
    if occupancy is not None:
        level = max(level, sum(occupancy >= t for t in thresholds.occupancy))
    if speed_kmh is not None:
        level = max(level, sum(speed_kmh <= t for t in thresholds.speed_kmh))
    if queue_vehicles is not None:
        level = max(level, sum(queue_vehicles >= t for t in thresholds.queue_vehicles))
    return CongestionLevel(level)


@dataclass(frozen=True)
class TrafficFlowObserved:
    camera_id: str
    line: str
    direction: str | None
    lane_direction: str | None
    """"forward" or "backward" as the data model spells it, whatever the line calls its directions."""
    date_from: datetime
    date_to: datetime
    intensity: int | None
    intensity_by_class: Mapping[str, int]
    occupancy: float | None
    average_vehicle_speed: float | None
    queue_vehicles: int | None
    queue_length: float | None
    congestion_level: CongestionLevel

    @property
    def congested(self) -> bool:
        return self.congestion_level >= CongestionLevel.CONGESTED

    @property
    def id(self) -> str:
        parts = [self.camera_id, self.line, *([self.direction] if self.direction else [])]
        return f"urn:ngsi-ld:TrafficFlowObserved:{'-'.join(parts)}-{self.date_from:%Y%m%dT%H%M%SZ}"

    @property
    def intensity_per_minute(self) -> float | None:
        seconds = (self.date_to - self.date_from).total_seconds()
        return None if self.intensity is None or seconds <= 0 else self.intensity * 60 / seconds

    def as_smart_data_model(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "type": "TrafficFlowObserved",
            "refDevice": f"urn:ngsi-ld:Camera:{self.camera_id}",
            "name": self.line,
            "dateObserved": f"{_iso(self.date_from)}/{_iso(self.date_to)}",
            "dateObservedFrom": _iso(self.date_from),
            "dateObservedTo": _iso(self.date_to),
            "congested": self.congested,
            "congestionLevel": self.congestion_level.name.lower(),
        }
        optional = {
            "laneDirection": self.lane_direction,
            "intensity": self.intensity,
            "occupancy": None if self.occupancy is None else round(self.occupancy, 4),
            "averageVehicleSpeed": None
            if self.average_vehicle_speed is None
            else round(self.average_vehicle_speed, 1),
            "queueVehicles": self.queue_vehicles,
            "queueLength": None if self.queue_length is None else round(self.queue_length, 1),
        }
        record.update({key: value for key, value in optional.items() if value is not None})
        if self.intensity is not None:
            by_type = {
                SDM_VEHICLE_TYPES[TrafficClass(name)]: count
                for name, count in self.intensity_by_class.items()
                if TrafficClass(name) in SDM_VEHICLE_TYPES
            }
            record["intensityByVehicleType"] = by_type
            record["pedestrianIntensity"] = self.intensity_by_class.get(TrafficClass.PERSON.value, 0)
        return record


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FlowAggregator:
    """Collects crossings and zone time between interval boundaries (`interval_s` of source time)."""

    camera_id: str
    lines: Sequence[CountLine]
    zones: Mapping[str, ZoneMonitor]
    interval_s: float = 60.0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    thresholds: CongestionThresholds = field(default_factory=CongestionThresholds)
    _interval: int = 0
    _crossings: list[Crossing] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise ValueError(f"interval_s: must be positive (got {self.interval_s})")
        missing = {line.zone for line in self.lines if line.zone is not None} - set(self.zones)
        if missing:
            raise ValueError(f"lines: zone(s) {sorted(missing)} are named by a line but not defined")

    def add(self, crossings: Sequence[Crossing]) -> None:
        self._crossings.extend(crossings)

    def due(self, time_s: float) -> bool:
        return time_s >= (self._interval + 1) * self.interval_s

    def close(self, time_s: float | None = None) -> list[TrafficFlowObserved]:
        """Records for the current interval, which ends at its boundary or at `time_s` (a last partial one)."""
        start = self._interval * self.interval_s
        end = (self._interval + 1) * self.interval_s if time_s is None else max(time_s, start)
        records = self._records(start, end)
        self._interval += 1
        self._crossings = []
        return records

    def roll(self, time_s: float) -> list[TrafficFlowObserved]:
        """Close every interval that ended by `time_s` (empty ones too, so a quiet road reads zero)."""
        records = []
        while self.due(time_s):
            records.extend(self.close())
        return records

    def _records(self, start: float, end: float) -> list[TrafficFlowObserved]:
        date_from = self.started_at + timedelta(seconds=start)
        date_to = self.started_at + timedelta(seconds=end)
        summaries = {name: monitor.take() for name, monitor in self.zones.items()}
        counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        speeds: dict[tuple[str, str], list[float]] = defaultdict(list)
        for crossing in self._crossings:
            key = (crossing.line, crossing.direction)
            counts[key][crossing.traffic_class.value] += 1
            if crossing.speed_kmh is not None and crossing.traffic_class is not TrafficClass.PERSON:
                speeds[key].append(crossing.speed_kmh)
        records = []
        for line in self.lines:
            summary = summaries.get(line.zone) if line.zone is not None else None
            for lane_direction, direction in zip(("forward", "backward"), line.directions, strict=True):
                by_class = counts[(line.name, direction)]
                speed = (
                    statistics.fmean(speeds[(line.name, direction)])
                    if speeds[(line.name, direction)]
                    else None
                )
                vehicles = sum(n for name, n in by_class.items() if name != TrafficClass.PERSON.value)
                records.append(
                    self._record(
                        line.name,
                        direction,
                        lane_direction,
                        date_from,
                        date_to,
                        vehicles,
                        by_class,
                        speed,
                        summary,
                    )
                )
        reported = {line.zone for line in self.lines}
        for name, summary in summaries.items():
            if name not in reported:
                records.append(
                    self._record(name, None, None, date_from, date_to, None, Counter(), None, summary)
                )
        return records

    def _record(
        self,
        line: str,
        direction: str | None,
        lane_direction: str | None,
        date_from: datetime,
        date_to: datetime,
        intensity: int | None,
        by_class: Counter[str],
        speed: float | None,
        zone: ZoneSummary | None,
    ) -> TrafficFlowObserved:
        occupancy = zone.occupancy if zone else None
        queue = zone.max_queue if zone else None
        return TrafficFlowObserved(
            camera_id=self.camera_id,
            line=line,
            direction=direction,
            lane_direction=lane_direction,
            date_from=date_from,
            date_to=date_to,
            intensity=intensity,
            intensity_by_class=dict(by_class),
            occupancy=occupancy,
            average_vehicle_speed=speed,
            queue_vehicles=queue,
            queue_length=zone.max_queue_length if zone else None,
            congestion_level=congestion_level(occupancy, speed, queue, self.thresholds),
        )
