"""Counting lines: hysteresis against jitter, direction, segment ends, speed where calibrated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.traffic.analytics.calibration import Calibration
from cityops.traffic.analytics.counting import CountLine, Crossing, LineCounter
from cityops.traffic.analytics.tracking import MotionHistory, TrackedObject
from cityops.traffic.video.detections import TrafficClass

# A vertical line at x = 100 from y = 200 (start) up to y = 0 (end): "forward" is left to right.
LINE = CountLine("gate", (100.0, 200.0), (100.0, 0.0), hysteresis_px=5.0, anchor="centre")


def at(x: float, y: float = 100.0, track_id: int = 1) -> TrackedObject:
    return TrackedObject(track_id, TrafficClass.CAR, (x - 10, y - 5, x + 10, y + 5), 0.9)


def run(line: CountLine, xs: list[float], y: float = 100.0) -> list[Crossing]:
    counter = LineCounter(line)
    crossings = []
    for step, x in enumerate(xs):
        crossings += counter.update([at(x, y)], step * 0.1)
    return crossings


def test_left_to_right_is_forward_and_back_is_backward() -> None:
    assert [c.direction for c in run(LINE, [80, 90, 110, 120])] == ["forward"]
    assert [c.direction for c in run(LINE, [120, 110, 90, 80])] == ["backward"]


def test_named_directions() -> None:
    line = CountLine(
        "gate", (100.0, 200.0), (100.0, 0.0), directions=("inbound", "outbound"), anchor="centre"
    )
    assert [c.direction for c in run(line, [50, 150, 50])] == ["inbound", "outbound"]


def test_jitter_on_the_line_counts_once_where_a_naive_counter_double_counts() -> None:
    path = [80.0, 90.0] + [100 + (3 if i % 2 else -3) for i in range(30)] + [110.0, 120.0]
    assert len(run(LINE, path)) == 1
    naive = CountLine("gate", LINE.start, LINE.end, hysteresis_px=0.0, anchor="centre")
    assert len(run(naive, path)) > 1


def test_passing_beyond_the_end_of_the_segment_is_not_counted() -> None:
    assert run(LINE, [80, 90, 110, 120], y=260) == []
    assert len(run(LINE, [80, 90, 110, 120], y=195)) == 1


dead_band = st.floats(-4.9, 4.9)


@given(
    st.lists(dead_band, max_size=20),
    st.lists(st.floats(-4.9, 400), max_size=20),
    st.floats(5.1, 300),
)
def test_one_real_crossing_is_one_count_whatever_the_jitter(
    hesitation: list[float], afterwards: list[float], arrive: float
) -> None:
    xs = [-50.0, *hesitation, arrive, *afterwards]
    crossings = run(LINE, [100 + x for x in xs])
    assert [c.direction for c in crossings] == ["forward"]


@given(st.lists(dead_band, min_size=1, max_size=40))
def test_staying_within_the_dead_band_never_counts(xs: list[float]) -> None:
    assert run(LINE, [100 + x for x in xs]) == []


def test_each_track_counts_for_itself() -> None:
    counter = LineCounter(LINE)
    crossings = []
    for step, x in enumerate([80, 90, 110, 120]):
        crossings += counter.update([at(x, track_id=1), at(200 - x, y=50, track_id=2)], step * 0.1)
    assert sorted((c.track_id, c.direction) for c in crossings) == [(1, "forward"), (2, "backward")]


def test_speed_is_reported_where_calibrated() -> None:
    # 1 pixel = 0.1 m: a vehicle moving 50 px per 0.1 s drives at 50 m/s... make it 10 px: 10 m/s = 36 km/h.
    calibration = Calibration(
        [(0, 0), (1000, 0), (1000, 1000), (0, 1000)], [(0, 0), (100, 0), (100, 100), (0, 100)]
    )
    history = MotionHistory(calibration=calibration, anchor="centre")
    counter = LineCounter(LINE)
    crossings: list[Crossing] = []
    for step in range(12):
        objects = [at(45 + 10 * step)]
        history.update(objects, step * 0.1)
        crossings += counter.update(objects, step * 0.1, history)
    assert len(crossings) == 1
    assert crossings[0].speed_kmh == pytest.approx(36.0, rel=0.01)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"name": " "}, "name"),
        ({"end": (100.5, 200.5)}, "start, end"),
        ({"hysteresis_px": -1}, "hysteresis_px"),
        ({"directions": ("in", "in")}, "directions"),
    ],
)
def test_bad_lines_name_the_field(options: dict[str, object], field: str) -> None:
    settings: dict[str, object] = {"name": "gate", "start": (100.0, 200.0), "end": (100.0, 0.0), **options}
    with pytest.raises(ValueError, match=f"^{field}"):
        CountLine(**settings)  # type: ignore[arg-type]
