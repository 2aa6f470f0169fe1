"""NanoDet through ONNX Runtime on real photographs no one on the team made."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.traffic.video.detections import TrafficClass
from cityops.traffic.video.detector import NanoDetDetector, load_class_map, parse_class_map


def found(detector: NanoDetDetector, image_path: Path) -> list[tuple[TrafficClass, tuple[float, ...]]]:
    image = cv2.imread(str(image_path))
    result = detector.detect(image)
    return [(cls, tuple(box)) for cls, box in zip(result.classes(), result.boxes.tolist(), strict=True)]


def test_bus_photo_has_the_bus_and_the_people(detector: NanoDetDetector, bus_jpg: Path) -> None:
    objects = found(detector, bus_jpg)
    buses = [box for cls, box in objects if cls is TrafficClass.BUS]
    people = [box for cls, box in objects if cls is TrafficClass.PERSON]
    assert len(buses) == 1
    x1, _, x2, _ = buses[0]
    assert (x2 - x1) > 0.8 * 810  # the bus spans the picture's width (810 px)
    assert len(people) >= 3
    assert all(y2 > 700 for _, _, _, y2 in people)  # people stand on the pavement, low in the frame


def test_dog_photo_has_the_bicycle_and_the_truck_but_no_dog(detector: NanoDetDetector, dog_jpg: Path) -> None:
    objects = found(detector, dog_jpg)
    classes = [cls for cls, _ in objects]
    assert TrafficClass.BICYCLE in classes
    assert TrafficClass.TRUCK in classes
    bicycle = next(box for cls, box in objects if cls is TrafficClass.BICYCLE)
    truck = next(box for cls, box in objects if cls is TrafficClass.TRUCK)
    assert bicycle[1] > truck[1]  # the truck is parked behind, higher in the picture
    assert truck[0] > 768 / 2  # and on the right-hand side
    # The dog (COCO class 16) is not a road user: absent from the class map, so never reported.
    assert TrafficClass.PERSON not in classes


def test_boxes_scale_with_the_frame(detector: NanoDetDetector, dog_jpg: Path) -> None:
    image = cv2.imread(str(dog_jpg))
    small = detector.detect(image)
    large = detector.detect(cv2.resize(image, None, fx=2, fy=2))
    bicycle = TrafficClass.BICYCLE
    small_box = small.boxes[[c is bicycle for c in small.classes()]][0]
    large_box = large.boxes[[c is bicycle for c in large.classes()]][0]
    np.testing.assert_allclose(large_box, small_box * 2, atol=12)


def test_a_blank_frame_has_nothing(detector: NanoDetDetector) -> None:
    assert len(detector.detect(np.full((360, 640, 3), 90, np.uint8))) == 0


@pytest.mark.parametrize(
    ("image", "why"),
    [
        (np.zeros((0, 0, 3), np.uint8), "empty image"),
        (np.zeros((10, 0, 3), np.uint8), "empty image"),
        (np.zeros((10, 10), np.uint8), "BGR"),
        (np.zeros((10, 10, 3), np.float32), "uint8"),
    ],
)
def test_unusable_frames_are_refused_by_name(detector: NanoDetDetector, image: np.ndarray, why: str) -> None:
    with pytest.raises(ValueError, match=f"frame: .*{why}"):
        detector.detect(image)


def test_a_user_class_map_relabels_model_classes(model_path: Path, dog_jpg: Path, tmp_path: Path) -> None:
    """A user's model may number its classes differently: here COCO's truck (7) is declared a car."""
    mapping = tmp_path / "classes.json"
    mapping.write_text(json.dumps({"1": "bicycle", "7": "car"}), encoding="utf-8")
    detector = NanoDetDetector(model_path, class_map=load_class_map(mapping))
    classes = {cls for cls, _ in found(detector, dog_jpg)}
    assert classes == {TrafficClass.BICYCLE, TrafficClass.CAR}


def test_class_map_beyond_the_model_is_refused(model_path: Path) -> None:
    with pytest.raises(ValueError, match="class_map: index 80"):
        NanoDetDetector(model_path, class_map={80: TrafficClass.CAR})


def test_missing_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model_path"):
        NanoDetDetector(tmp_path / "none.onnx")


@given(st.dictionaries(st.integers(0, 500), st.sampled_from(list(TrafficClass)), min_size=1))
def test_class_map_json_round_trips(mapping: dict[int, TrafficClass]) -> None:
    raw = json.loads(json.dumps({str(k): v.value for k, v in mapping.items()}))
    assert parse_class_map(raw) == mapping


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "non-empty JSON object"),
        ({}, "non-empty JSON object"),
        ({"x": "car"}, r"class_map\['x'\]: the key"),
        ({"-1": "car"}, r"class_map\['-1'\]: the key"),
        ({"2": "tractor"}, r"class_map\['2'\]: 'tractor' is not a traffic class"),
        ({"2": 3}, r"class_map\['2'\]: 3 is not"),
    ],
)
def test_bad_class_maps_name_the_entry(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_class_map(raw)


def test_class_map_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "classes.json"
    path.write_text("{1: car", encoding="utf-8")
    with pytest.raises(ValueError, match=r"class_map: .* is not valid JSON"):
        load_class_map(path)
