"""Tracking people on OpenCV's vtest.avi (fixed elevated camera, 768x576, 10 fps): detections come and go
from frame to frame, identities must not."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import median

import numpy as np
import pytest

from cityops.traffic.analytics.tracking import MotionHistory, VehicleTracker
from cityops.traffic.video.detections import CLASSES, Detections, TrafficClass
from cityops.traffic.video.detector import NanoDetDetector
from cityops.traffic.video.motion import BlobDetector, MotionGate
from cityops.traffic.video.sources import SourceConfig, VideoSource

PERSON = frozenset({TrafficClass.PERSON})


def test_people_keep_their_identity(detector: NanoDetDetector, vtest_avi: Path) -> None:
    source = VideoSource(SourceConfig(str(vtest_avi), sample_fps=5.0))
    tracker = VehicleTracker(frame_rate=5.0)
    seen: dict[int, list[float]] = defaultdict(list)
    detected, tracked = [], []
    for frame in source.frames():
        if frame.time_s > 12:
            break
        detections = detector.detect(frame.image).only(PERSON)
        objects = tracker.update(detections, frame.time_s)
        detected.append(len(detections))
        tracked.append(len(objects))
        for obj in objects:
            assert obj.traffic_class is TrafficClass.PERSON
            seen[obj.track_id].append(frame.time_s)
    assert median(detected) >= 4  # several pedestrians in every frame
    assert median(tracked) >= median(detected) - 2  # and almost all of them carried as confirmed tracks
    lifetimes = [max(times) - min(times) for times in seen.values()]
    assert median(lifetimes) >= 3.0  # people take many seconds to cross the square: ids must last
    assert len(seen) <= 3 * max(tracked)  # identity switches would multiply the ids


def test_moving_blobs_become_tracks(vtest_avi: Path) -> None:
    source = VideoSource(SourceConfig(str(vtest_avi), sample_fps=None))
    gate, blobs = MotionGate(), BlobDetector(min_area=300)
    tracker = VehicleTracker(frame_rate=10.0)
    history = MotionHistory(anchor="centre")
    counts = []
    for frame in source.frames():
        if frame.time_s > 15:
            break
        objects = tracker.update(blobs.detect(gate.apply(frame.grey)), frame.time_s)
        history.update(objects, frame.time_s)
        counts.append(len(objects))
    assert median(counts[20:]) >= 3  # after the background is learnt, walkers are tracked
    walking = [history.speed(obj.track_id) for obj in objects]
    assert any(speed is not None and 5 < speed < 150 for speed in walking)  # px/s of a walker at 10 fps


def test_one_false_detection_never_makes_a_track() -> None:
    tracker = VehicleTracker(frame_rate=10.0, min_hits=3)
    box = Detections(np.array([[10, 10, 50, 40]], np.float32), np.array([0.9], np.float32), np.array([1]))
    assert tracker.update(box, 0.0) == []
    assert tracker.update(Detections.empty(), 0.1) == []
    assert tracker.update(Detections.empty(), 0.2) == []


def test_class_is_the_vote_of_the_whole_track() -> None:
    tracker = VehicleTracker(frame_rate=10.0, min_hits=2)
    car, truck = CLASSES.index(TrafficClass.CAR), CLASSES.index(TrafficClass.TRUCK)
    labels = [car, car, car, truck, car]
    objects = []
    for step, label in enumerate(labels):
        box = np.array([[10 + 5 * step, 10, 60 + 5 * step, 40]], np.float32)
        objects = tracker.update(Detections(box, np.array([0.8], np.float32), np.array([label])), step / 10)
    assert [obj.traffic_class for obj in objects] == [TrafficClass.CAR]


@pytest.mark.parametrize("setting", [{"frame_rate": 0.0}, {"frame_rate": 5.0, "min_hits": 0}])
def test_bad_tracker_settings_are_named(setting: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(reversed(setting))):
        VehicleTracker(**setting)  # type: ignore[arg-type]
