"""Background subtraction (OpenCV MOG2): a gate that says when a frame is worth running the detector on,
and a detector of moving blobs for counting without model weights.

Both work on a downscaled grey copy of the frame (`work_width`), which is what makes hundreds of frames a
second possible; boxes are returned in the coordinates of the frame given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from cityops.traffic.video.detections import Detections, TrafficClass, class_index, require_image


@dataclass(frozen=True)
class MotionResult:
    moving: bool
    foreground: float
    """Share of the picture that differs from the learnt background, 0..1."""
    mask: NDArray[np.uint8]
    """Foreground mask at the working size, 255 where moving (after noise removal)."""
    scale: float
    """Frame pixels per mask pixel."""


class MotionGate:
    """Learns the background; a changed frame size (camera reconfigured) starts it afresh."""

    def __init__(
        self,
        *,
        work_width: int = 320,
        threshold: float = 0.002,
        history: int = 500,
        var_threshold: float = 25.0,
        background_ratio: float = 0.7,
        learning_rate: float = -1.0,
    ) -> None:
        if work_width < 32:
            raise ValueError(f"work_width: must be at least 32 (got {work_width})")
        if not 0 <= threshold < 1:
            raise ValueError(f"threshold: must be a share between 0 and 1 (got {threshold})")
        self.work_width = work_width
        self.threshold = threshold
        self._history = history
        self._var_threshold = var_threshold
        self._background_ratio = background_ratio
        self._learning_rate = learning_rate
        self._shape: tuple[int, ...] | None = None
        self._subtractor: cv2.BackgroundSubtractorMOG2 | None = None
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def reset(self) -> None:
        self._subtractor = None
        self._shape = None

    def apply(self, image: NDArray[np.uint8]) -> MotionResult:
        """`image`: grey (height x width, e.g. `Frame.grey`, the cheapest) or BGR."""
        require_image(image, grey_ok=True)
        if image.shape[:2] != self._shape or self._subtractor is None:
            self._start(image.shape[:2])
        scale = image.shape[1] / self.work_width
        height = max(1, round(image.shape[0] / scale))
        small = cv2.resize(image, (self.work_width, height), interpolation=cv2.INTER_AREA)
        grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        assert self._subtractor is not None
        mask = self._subtractor.apply(grey, learningRate=self._learning_rate)
        _, mask = cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        foreground = cv2.countNonZero(mask) / mask.size
        return MotionResult(
            foreground >= self.threshold and foreground > 0, foreground, np.asarray(mask, np.uint8), scale
        )

    def _start(self, shape: tuple[int, ...]) -> None:
        self._shape = shape
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=self._history, varThreshold=self._var_threshold, detectShadows=False
        )
        # A long uniform bus covers a pixel for dozens of frames; with OpenCV's default ratio (0.9) its
        # colour joins the background before it has passed and the blob falls apart.
        self._subtractor.setBackgroundRatio(self._background_ratio)


@dataclass(frozen=True)
class SizeBand:
    """Blobs up to `max_area` frame pixels (box area) are called `traffic_class`."""

    max_area: float
    traffic_class: TrafficClass


class BlobDetector:
    """Moving blobs as detections. Without size bands every blob is an unclassified VEHICLE."""

    def __init__(
        self,
        *,
        min_area: float = 150.0,
        size_bands: Sequence[SizeBand] = (),
        close_px: int = 5,
    ) -> None:
        if min_area <= 0:
            raise ValueError(f"min_area: must be positive (got {min_area})")
        areas = [band.max_area for band in size_bands]
        if areas != sorted(areas):
            raise ValueError("size_bands: must be sorted by max_area, smallest first")
        self.min_area = min_area
        self._bands = list(size_bands)
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (close_px, close_px))

    def detect(self, motion: MotionResult) -> Detections:
        mask = cv2.morphologyEx(motion.mask, cv2.MORPH_CLOSE, self._kernel)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if count <= 1:
            return Detections.empty()
        stats = stats[1:]
        scale = motion.scale
        boxes = np.stack(
            [
                stats[:, cv2.CC_STAT_LEFT],
                stats[:, cv2.CC_STAT_TOP],
                stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH],
                stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT],
            ],
            1,
        ).astype(np.float32) * np.float32(scale)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = areas >= self.min_area
        boxes, areas = boxes[keep], areas[keep]
        fill = stats[keep, cv2.CC_STAT_AREA] * scale * scale / np.maximum(areas, 1)
        labels = np.array([self.classify(float(area)) for area in areas], np.int64)
        return Detections(boxes, np.clip(fill, 0.0, 1.0).astype(np.float32), labels)

    def classify(self, area: float) -> int:
        for band in self._bands:
            if area <= band.max_area:
                return class_index(band.traffic_class)
        return class_index(self._bands[-1].traffic_class if self._bands else TrafficClass.VEHICLE)
