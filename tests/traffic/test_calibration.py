"""Pixel -> metre homography from four points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.traffic.analytics.calibration import Calibration

# A 3.5 m wide, 30 m long lane seen in perspective: far end narrow and high in the picture.
LANE_IMAGE = [(280.0, 120.0), (360.0, 120.0), (560.0, 350.0), (80.0, 350.0)]
LANE_WORLD = [(0.0, 30.0), (3.5, 30.0), (3.5, 0.0), (0.0, 0.0)]


def test_the_measured_points_land_where_they_were_measured() -> None:
    calibration = Calibration(LANE_IMAGE, LANE_WORLD)
    np.testing.assert_allclose(calibration.to_world(np.array(LANE_IMAGE)), LANE_WORLD, atol=1e-6)
    assert calibration.distance_m(LANE_IMAGE[0], LANE_IMAGE[1]) == pytest.approx(3.5)
    assert calibration.distance_m(LANE_IMAGE[3], LANE_IMAGE[0]) == pytest.approx(30.0)


def test_perspective_makes_far_pixels_longer() -> None:
    calibration = Calibration(LANE_IMAGE, LANE_WORLD)
    near = calibration.distance_m((320.0, 340.0), (320.0, 330.0))
    far = calibration.distance_m((320.0, 130.0), (320.0, 120.0))
    assert far > 3 * near


@given(st.floats(0, 3.5), st.floats(0, 30))
def test_world_to_image_and_back(x: float, y: float) -> None:
    calibration = Calibration(LANE_IMAGE, LANE_WORLD)
    image = calibration.to_image(np.array([[x, y]]))
    np.testing.assert_allclose(calibration.to_world(image), [[x, y]], atol=1e-6)


@pytest.mark.parametrize(
    ("image", "world", "message"),
    [
        (LANE_IMAGE[:3], LANE_WORLD, "image_points: expected exactly 4"),
        (LANE_IMAGE, [*LANE_WORLD, (1.0, 1.0)], "world_points: expected exactly 4"),
        ([(0, 0), (10, 10), (20, 20), (0, 50)], LANE_WORLD, "image_points: three of the four points"),
        (LANE_IMAGE, [(0, 0), (0, 1), (0, 2), (5, 0)], "world_points: three of the four points"),
        ([(0, 0), (1, 0), (1, float("nan")), (0, 1)], LANE_WORLD, "image_points: points must be finite"),
    ],
)
def test_bad_points_are_named(
    image: list[tuple[float, float]], world: list[tuple[float, float]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Calibration(image, world)
