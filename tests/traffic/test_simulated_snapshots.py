"""The demo's synthetic camera wall: valid pictures and overlays in the snapshot store, counts that match
the synthetic scene's ground truth, nothing from a camera during its scripted outage."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.core.entities import make_urn
from cityops.traffic.demo import simulator
from cityops.traffic.demo.snapshots import LINE_ID, SyntheticCamera, SyntheticWall
from cityops.traffic.snapshots import SnapshotStore, check_jpeg

START_MS = 1_790_000_000_000


def test_wall_puts_a_jpeg_and_its_overlay_for_every_camera_that_is_up(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    wall = SyntheticWall(["a", "b", "c"], START_MS)
    assert wall.post(store, START_MS + 12_000, skip=frozenset({"b"})) == 2
    assert store.get("b") is None
    for camera_id in ("a", "c"):
        snapshot = store.get(camera_id)
        assert snapshot is not None
        check_jpeg(snapshot.jpeg)
        image = cv2.imdecode(np.frombuffer(snapshot.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        assert image.shape == (snapshot.overlay["height"], snapshot.overlay["width"], 3)
        assert snapshot.overlay["ts"] == START_MS + 12_000
        assert [line["id"] for line in snapshot.overlay["lines"]] == [LINE_ID]
        for box in snapshot.overlay["boxes"]:
            assert 0 <= box["x1"] < box["x2"] <= image.shape[1]
            assert 0 <= box["y1"] < box["y2"] <= image.shape[0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 50), loops=st.integers(0, 5), within=st.floats(0, 15.9))
def test_counts_are_whole_loops_of_ground_truth_plus_the_crossings_so_far(
    seed: int, loops: int, within: float
) -> None:
    camera = SyntheticCamera.create("x", seed, START_MS)
    scene = camera.scene
    now = START_MS + round((loops * scene.duration_s + within) * 1000)
    played, t = camera.clock(now)  # cameras start a few seconds apart
    assert played in (loops, loops + 1)
    counts = camera.overlay(now)["counts"][LINE_ID]
    expected: dict[str, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0})
    for (kind, direction), n in scene.ground_truth().items():
        expected[str(kind)]["in" if direction == "forward" else "out"] += played * n
    for vehicle in scene.vehicles:
        if scene.crossing_time(vehicle) <= t:
            expected[str(vehicle.kind)]["in" if vehicle.direction == "forward" else "out"] += 1
    assert {kind: ways for kind, ways in counts.items() if ways["in"] or ways["out"]} == {
        kind: ways for kind, ways in expected.items() if ways["in"] or ways["out"]
    }


def test_outage_camera_reports_down_and_nothing_else_while_it_lasts() -> None:
    start = START_MS - START_MS % simulator.OUTAGE_EVERY_MS
    down = make_urn("Camera", simulator.OUTAGE_CAMERA)
    rng = random.Random(3)
    during = [p for p in simulator.camera_points(start + 60_000, rng) if p["entity"] == down]
    after = [
        p for p in simulator.camera_points(start + simulator.OUTAGE_LASTS_MS + 1, rng) if p["entity"] == down
    ]
    assert [(p["metric"], p["value"]) for p in during] == [("state", 0.0)]
    assert ("state", 1.0) in [(p["metric"], p["value"]) for p in after]
    assert simulator.camera_down(simulator.OUTAGE_CAMERA, start + 60_000)
    assert not simulator.camera_down(simulator.OUTAGE_CAMERA, start + simulator.OUTAGE_LASTS_MS + 1)


def test_class_counts_add_up_to_the_flow_over_a_minute() -> None:
    rng = random.Random(5)
    urn = make_urn("Camera", "tdm-001")
    flows, counted = [], 0.0
    for tick in range(30):  # one minute of 2-second intervals, at a quiet hour so the flow is steady
        points = simulator.camera_points(START_MS + tick * 2_000, rng)
        mine = [p for p in points if p["entity"] == urn]
        flows += [p["value"] for p in mine if p["metric"] == "intensity"]
        counted += sum(p["value"] for p in mine if p["metric"].startswith("count."))
    mean_flow = sum(flows) / len(flows)
    assert abs(counted - mean_flow) < 0.25 * mean_flow + 5
