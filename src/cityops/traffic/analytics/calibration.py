"""Pixels to metres on the road plane: a homography from four image points whose ground positions are
known (e.g. the corners of a lane segment measured on a map), so tracks give speeds in km/h."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

Point = tuple[float, float]


def _as_quad(points: Sequence[Point], field: str) -> NDArray[np.float32]:
    array = np.asarray(points, dtype=np.float64)
    if array.shape != (4, 2):
        raise ValueError(f"{field}: expected exactly 4 (x, y) points, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{field}: points must be finite numbers")
    for skip in range(4):
        a, b, c = (array[i] for i in range(4) if i != skip)
        twice_area = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
        scale = max(np.ptp(array[:, 0]), np.ptp(array[:, 1]), 1e-12) ** 2
        if twice_area < 1e-6 * scale:
            raise ValueError(f"{field}: three of the four points lie on one line")
    return array.astype(np.float32)


class Calibration:
    def __init__(self, image_points: Sequence[Point], world_points: Sequence[Point]) -> None:
        """`world_points` in metres in any local frame (e.g. east/north of a corner), same order as the
        image points."""
        self.image_points = _as_quad(image_points, "image_points")
        self.world_points = _as_quad(world_points, "world_points")
        self.matrix = np.asarray(
            cv2.getPerspectiveTransform(self.image_points, self.world_points), np.float64
        )
        self._inverse = np.asarray(np.linalg.inv(self.matrix), np.float64)

    def to_world(self, points: ArrayLike) -> NDArray[np.float64]:
        return _project(self.matrix, points)

    def to_image(self, points: ArrayLike) -> NDArray[np.float64]:
        return _project(self._inverse, points)

    def distance_m(self, a: Point, b: Point) -> float:
        world = self.to_world(np.array([a, b], np.float64))
        return float(np.linalg.norm(world[1] - world[0]))


def _project(matrix: NDArray[np.float64], points: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(points, np.float64).reshape(-1, 2)
    homogeneous = np.hstack([array, np.ones((len(array), 1))]) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:3]
