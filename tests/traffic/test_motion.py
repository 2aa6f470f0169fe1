"""MOG2 motion gating and the blob detector, on real video and on frames with known content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cityops.traffic.video.detections import TrafficClass
from cityops.traffic.video.motion import BlobDetector, MotionGate, SizeBand
from cityops.traffic.video.sources import SourceConfig, VideoSource


def first_frames(path: Path, count: int) -> list[np.ndarray]:
    frames = []
    for frame in VideoSource(SourceConfig(str(path), sample_fps=None)).frames():
        frames.append(frame.grey.copy())
        if len(frames) == count:
            break
    return frames


def test_a_still_picture_stops_the_gate_and_walkers_open_it(vtest_avi: Path) -> None:
    frames = first_frames(vtest_avi, 60)
    gate = MotionGate()
    results = [gate.apply(frames[0]) for _ in range(40)]
    assert not results[-1].moving and results[-1].foreground == 0
    assert gate.apply(frames[59]).moving  # six seconds later people have walked on


def test_the_gate_starts_afresh_when_the_picture_changes_size() -> None:
    gate = MotionGate()
    for _ in range(30):
        gate.apply(np.full((360, 640), 80, np.uint8))
    result = gate.apply(np.full((240, 320), 80, np.uint8))
    assert result.mask.shape == (240, 320)
    assert result.scale == 1.0


def test_blobs_are_where_things_moved_and_sized_into_classes() -> None:
    background = np.full((360, 640, 3), 90, np.uint8)
    gate = MotionGate()
    for _ in range(30):
        gate.apply(background)
    frame = background.copy()
    frame[100:126, 50:80] = 230  # 30 x 26: small
    frame[200:240, 300:420] = 20  # 120 x 40: large
    bands = (SizeBand(1500, TrafficClass.MOTORBIKE), SizeBand(10_000, TrafficClass.BUS))
    found = BlobDetector(size_bands=bands).detect(gate.apply(frame))
    boxes = sorted(zip(found.boxes.tolist(), found.classes(), strict=True))
    assert [cls for _, cls in boxes] == [TrafficClass.MOTORBIKE, TrafficClass.BUS]
    np.testing.assert_allclose(boxes[0][0], [50, 100, 80, 126], atol=4)
    np.testing.assert_allclose(boxes[1][0], [300, 200, 420, 240], atol=4)


def test_without_bands_blobs_are_unclassified_vehicles() -> None:
    gate = MotionGate(work_width=160)
    blank = np.zeros((90, 160), np.uint8)
    for _ in range(10):
        gate.apply(blank)
    moved = blank.copy()
    moved[20:40, 20:60] = 255
    assert BlobDetector().detect(gate.apply(moved)).classes() == [TrafficClass.VEHICLE]


@pytest.mark.parametrize("image", [np.zeros((0, 0), np.uint8), np.zeros((10, 0, 3), np.uint8)])
def test_zero_size_frames_are_refused_by_name(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="frame: empty image"):
        MotionGate().apply(image)


def test_size_bands_must_be_in_order() -> None:
    bands = (SizeBand(5000, TrafficClass.BUS), SizeBand(500, TrafficClass.MOTORBIKE))
    with pytest.raises(ValueError, match="size_bands"):
        BlobDetector(size_bands=bands)
