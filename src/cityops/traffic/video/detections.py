"""What a detector finds in one frame: boxes, scores and road-user classes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray


class TrafficClass(StrEnum):
    MOTORBIKE = "motorbike"
    CAR = "car"
    BUS = "bus"
    TRUCK = "truck"
    BICYCLE = "bicycle"
    PERSON = "person"
    VEHICLE = "vehicle"
    """A moving object the motion detector found but could not classify."""


CLASSES: tuple[TrafficClass, ...] = tuple(TrafficClass)
VEHICLE_CLASSES = frozenset(CLASSES) - {TrafficClass.PERSON}


@dataclass(frozen=True)
class Detections:
    boxes: NDArray[np.float32]
    """N x 4, pixel corners x1, y1, x2, y2 in the frame the detector was given."""
    scores: NDArray[np.float32]
    labels: NDArray[np.int64]
    """Index into CLASSES for each box."""

    def __post_init__(self) -> None:
        count = len(self.boxes)
        if self.boxes.shape != (count, 4) or self.scores.shape != (count,) or self.labels.shape != (count,):
            raise ValueError(
                f"boxes, scores, labels: shapes {self.boxes.shape}, {self.scores.shape}, {self.labels.shape} "
                "do not describe the same N detections"
            )

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.boxes)

    def classes(self) -> list[TrafficClass]:
        return [CLASSES[index] for index in self.labels]

    def only(self, wanted: frozenset[TrafficClass]) -> Detections:
        keep = np.array([CLASSES[index] in wanted for index in self.labels], dtype=bool)
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep])


def class_index(traffic_class: TrafficClass) -> int:
    return CLASSES.index(traffic_class)


def require_image(image: NDArray[np.uint8], field: str = "frame", *, grey_ok: bool = False) -> None:
    """Reject what no detector can use, naming the field, instead of failing deep inside OpenCV."""
    if not (image.ndim == 3 and image.shape[2] == 3) and not (grey_ok and image.ndim == 2):
        what = (
            "a height x width (grey) or height x width x 3 (BGR)" if grey_ok else "a height x width x 3 BGR"
        )
        raise ValueError(f"{field}: expected {what} image, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{field}: empty image ({image.shape[1]}x{image.shape[0]})")
    if image.dtype != np.uint8:
        raise ValueError(f"{field}: expected uint8 pixels, got {image.dtype}")
