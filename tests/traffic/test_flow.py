"""Interval flow records (Smart Data Models TrafficFlowObserved) and congestion levels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.traffic.analytics.counting import CountLine, Crossing
from cityops.traffic.analytics.flow import (
    LEVEL_LABELS,
    CongestionLevel,
    CongestionThresholds,
    FlowAggregator,
    congestion_level,
)
from cityops.traffic.analytics.tracking import MotionHistory, TrackedObject
from cityops.traffic.analytics.zones import Zone, ZoneMonitor
from cityops.traffic.video.detections import TrafficClass

START = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
LINE = CountLine("QL13", (0.0, 100.0), (0.0, 0.0), zone="lane")
ZONE = Zone("lane", ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)), anchor="centre")

share = st.floats(0, 1)
speed = st.floats(0, 120)


@given(share, share, st.one_of(st.none(), speed), st.integers(0, 30))
def test_more_occupancy_never_lowers_the_level(
    low: float, high: float, kmh: float | None, queue: int
) -> None:
    low, high = sorted((low, high))
    assert congestion_level(low, kmh, queue) <= congestion_level(high, kmh, queue)


@given(speed, speed, st.one_of(st.none(), share))
def test_slower_traffic_never_lowers_the_level(slow: float, fast: float, occupancy: float | None) -> None:
    slow, fast = sorted((slow, fast))
    assert congestion_level(occupancy, slow, None) >= congestion_level(occupancy, fast, None)


def test_levels_at_the_thresholds() -> None:
    assert congestion_level(None, None, None) is CongestionLevel.FREE
    assert congestion_level(0.3, None, None) is CongestionLevel.BUSY
    assert congestion_level(0.1, 12.0, None) is CongestionLevel.CONGESTED
    assert congestion_level(0.1, None, 15) is CongestionLevel.JAMMED
    assert set(LEVEL_LABELS[CongestionLevel.JAMMED]) == {"vi", "en", "ja"}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"occupancy": (0.5, 0.3, 0.7)}, "occupancy"),
        ({"occupancy": (0.3, 0.5, 1.5)}, "occupancy"),
        ({"speed_kmh": (5.0, 15.0, 30.0)}, "speed_kmh"),
        ({"queue_vehicles": (4, 4, 8)}, "queue_vehicles"),
    ],
)
def test_thresholds_out_of_order_are_named(options: dict[str, tuple[float, ...]], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        CongestionThresholds(**options)  # type: ignore[arg-type]


def crossing(t: float, kind: TrafficClass, direction: str = "forward", kmh: float | None = None) -> Crossing:
    return Crossing("QL13", direction, 1, kind, t, kmh)


def test_records_per_interval_direction_and_class() -> None:
    aggregator = FlowAggregator(
        "tdm-001", [LINE], {"lane": ZoneMonitor(ZONE)}, interval_s=60, started_at=START
    )
    history = MotionHistory(anchor="centre")
    for step in range(0, 1500):
        t = step / 10
        objects = [TrackedObject(1, TrafficClass.CAR, (40, 40, 60, 60), 0.9)] if t < 15 else []
        records = aggregator.roll(t)
        if records:
            break
        history.update(objects, t)
        aggregator.zones["lane"].update(objects, t, history)
        if step == 100:
            aggregator.add(
                [crossing(t, TrafficClass.MOTORBIKE, kmh=30), crossing(t, TrafficClass.MOTORBIKE, kmh=40)]
            )
            aggregator.add([crossing(t, TrafficClass.BUS, "backward"), crossing(t, TrafficClass.PERSON)])
    forward, backward = records
    assert (forward.date_from, forward.date_to) == (START, datetime(2025, 7, 1, 7, 1, tzinfo=UTC))
    assert forward.intensity == 2  # the pedestrian is not a vehicle
    assert forward.intensity_by_class == {"motorbike": 2, "person": 1}
    assert forward.average_vehicle_speed == pytest.approx(35.0)
    assert forward.occupancy == pytest.approx(0.25, abs=0.01)
    assert backward.intensity == 1 and backward.average_vehicle_speed is None
    model = forward.as_smart_data_model()
    assert model["type"] == "TrafficFlowObserved"
    assert model["id"] == "urn:ngsi-ld:TrafficFlowObserved:tdm-001-QL13-forward-20250701T070000Z"
    assert model["dateObserved"] == "2025-07-01T07:00:00Z/2025-07-01T07:01:00Z"
    assert model["laneDirection"] == "forward"
    assert model["intensityByVehicleType"] == {"motorcycle": 2}
    assert model["pedestrianIntensity"] == 1
    assert model["congested"] is False
    assert forward.intensity_per_minute == 2


def test_quiet_intervals_read_zero_and_the_last_one_is_partial() -> None:
    aggregator = FlowAggregator(
        "tdm-001", [LINE], {"lane": ZoneMonitor(ZONE)}, interval_s=10, started_at=START
    )
    aggregator.add([crossing(1.0, TrafficClass.CAR)])
    records = aggregator.roll(35.0)
    assert [r.intensity for r in records] == [1, 0, 0, 0, 0, 0]
    last = aggregator.close(37.5)
    assert (last[0].date_to - last[0].date_from).total_seconds() == 7.5


def test_a_zone_without_a_line_is_reported_on_its_own() -> None:
    aggregator = FlowAggregator("tdm-001", [], {"lane": ZoneMonitor(ZONE)}, interval_s=10, started_at=START)
    (record,) = aggregator.roll(10.0)
    assert (record.line, record.direction, record.intensity) == ("lane", None, None)
    assert "intensity" not in record.as_smart_data_model()


def test_a_line_naming_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match=r"lines: zone\(s\) \['lane'\]"):
        FlowAggregator("tdm-001", [LINE], {})
