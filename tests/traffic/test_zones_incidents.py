"""Zones (occupancy, queues) and incidents (stopped vehicle, wrong way) from known tracks."""

from __future__ import annotations

import pytest

from cityops.traffic.analytics.incidents import (
    IncidentDetector,
    IncidentKind,
    StoppedVehicleRule,
    WrongWayRule,
)
from cityops.traffic.analytics.tracking import MotionHistory, TrackedObject
from cityops.traffic.analytics.zones import Zone, ZoneMonitor
from cityops.traffic.video.detections import TrafficClass

BOX = ((0.0, 0.0), (200.0, 0.0), (200.0, 100.0), (0.0, 100.0))


def car(track_id: int, x: float, y: float = 50.0, kind: TrafficClass = TrafficClass.CAR) -> TrackedObject:
    return TrackedObject(track_id, kind, (x - 10, y - 10, x + 10, y + 10), 0.9)


def test_occupancy_is_the_share_of_time_a_vehicle_is_inside() -> None:
    monitor, history = ZoneMonitor(Zone("stop", BOX, anchor="centre")), MotionHistory(anchor="centre")
    for step in range(101):  # 10 s at 10 fps; a car inside during 3 of them
        t = step / 10
        objects = [car(1, 100)] if 2 <= t < 5 else []
        history.update(objects, t)
        monitor.update(objects, t, history)
    summary = monitor.take()
    assert summary.occupancy == pytest.approx(0.3, abs=0.011)
    assert summary.mean_vehicles == pytest.approx(0.3, abs=0.011)
    assert monitor.take().occupancy is None  # a fresh interval has observed nothing yet


def test_pedestrians_do_not_occupy_a_lane() -> None:
    monitor, history = ZoneMonitor(Zone("stop", BOX, anchor="centre")), MotionHistory(anchor="centre")
    for step in range(20):
        objects = [car(1, 100, kind=TrafficClass.PERSON)]
        history.update(objects, step / 10)
        monitor.update(objects, step / 10, history)
    assert monitor.take().occupancy == 0


def test_queue_counts_standing_vehicles_and_measures_from_the_head() -> None:
    zone = Zone("approach", BOX, queue_speed=2.0, head=(0.0, 50.0), anchor="centre")
    monitor, history = ZoneMonitor(zone), MotionHistory(anchor="centre")
    for step in range(30):
        t = step / 10
        objects = [car(1, 20), car(2, 60), car(3, 100), car(4, 150 - 30 * t)]  # the fourth drives through
        history.update(objects, t)
        monitor.update(objects, t, history)
    summary = monitor.take()
    assert summary.max_queue == 3
    assert summary.max_queue_length == pytest.approx(100.0)


def test_a_vehicle_stopped_long_enough_is_reported_once() -> None:
    detector = IncidentDetector(stopped=StoppedVehicleRule(min_stopped_s=5.0, tolerance=3.0))
    history = MotionHistory(anchor="centre")
    fired = []
    for step in range(200):
        t = step / 10
        x = 10 * t if t < 4 else 40 + (0.5 if step % 2 else -0.5)  # drives, then stands with jitter
        objects = [car(7, x)]
        history.update(objects, t)
        fired += [(i.kind, i.track_id, i.time_s) for i in detector.update(objects, t, history)]
    assert len(fired) == 1
    kind, track, when = fired[0]
    assert (kind, track) == (IncidentKind.STOPPED_VEHICLE, 7)
    assert 9.0 <= when <= 9.5  # stood from t = 4 s, reported 5 s later


def test_wrong_way_driving_is_reported_and_the_right_way_is_not() -> None:
    lane = Zone("northbound", BOX, anchor="centre")
    detector = IncidentDetector(
        wrong_way=[WrongWayRule(lane, allowed=((0.0, 50.0), (200.0, 50.0)), min_travel=30)]
    )
    history = MotionHistory(anchor="centre")
    incidents = []
    for step in range(30):
        t = step / 10
        objects = [car(1, 10 + 5 * step), car(2, 190 - 5 * step, y=70)]
        history.update(objects, t)
        incidents += detector.update(objects, t, history)
    assert [(i.kind, i.track_id, i.where) for i in incidents] == [(IncidentKind.WRONG_WAY, 2, "northbound")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Zone("z", ((0, 0), (1, 1))), "polygon: zone 'z' needs at least 3"),
        (lambda: Zone("z", ((0, 0), (1, 1), (2, 2))), "polygon: zone 'z' has no area"),
        (lambda: StoppedVehicleRule(min_stopped_s=0), "min_stopped_s"),
        (lambda: WrongWayRule(Zone("z", BOX), allowed=((1, 1), (1, 1))), "allowed"),
    ],
)
def test_bad_definitions_are_named(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_tracks_gone_for_long_are_forgotten() -> None:
    """A camera runs for months: what is kept per track must go with the track (ids may come back)."""
    lane = Zone("northbound", BOX, anchor="centre")
    detector = IncidentDetector(
        wrong_way=[WrongWayRule(lane, allowed=((0.0, 50.0), (200.0, 50.0)), min_travel=30)]
    )
    history = MotionHistory(anchor="centre", forget_s=1000)
    fired = []
    for start in (0.0, 100.0):  # the same id drives the wrong way twice, 100 s apart
        for step in range(30):
            t = start + step / 10
            objects = [car(2, 190 - 5 * step)]
            history.update(objects, t)
            fired += detector.update(objects, t, history)
        detector.update([], start + 90, history)
    assert len(fired) == 2
