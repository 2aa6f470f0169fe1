"""The whole camera pipeline: counting accuracy against the synthetic video's ground truth, flow records,
the detector path on real video, and where it may run."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cityops.traffic.analytics.counting import CountLine
from cityops.traffic.analytics.flow import TrafficFlowObserved
from cityops.traffic.analytics.pipeline import CameraConfig, process_camera, start_camera
from cityops.traffic.analytics.zones import Zone
from cityops.traffic.demo.synthetic import SyntheticScene, random_scene, size_bands, write_video
from cityops.traffic.video.detections import TrafficClass
from cityops.traffic.video.detector import NanoDetDetector
from cityops.traffic.video.sources import SourceConfig, TruncatedStreamError

START = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SyntheticScene]:
    """A few seconds of traffic, for tests about where and how the pipeline runs rather than accuracy."""
    scene = random_scene(seed=4, duration_s=8.0, vehicles_per_lane=3)
    return write_video(scene, tmp_path_factory.mktemp("short") / "short.mp4"), scene


def motion_camera(video: Path, scene: SyntheticScene, **options: object) -> CameraConfig:
    start, end = scene.counting_line()
    top, bottom = end[1], start[1]
    road = ((0.0, top), (float(scene.width), top), (float(scene.width), bottom), (0.0, bottom))
    settings: dict[str, object] = {
        "mode": "motion",
        "lines": (CountLine("line", start, end, anchor="centre", zone="road"),),
        "zones": (Zone("road", road, anchor="centre"),),
        "size_bands": size_bands(),
        "interval_s": 5.0,
        **options,
    }
    return CameraConfig("synthetic", SourceConfig(str(video), sample_fps=None), **settings)  # type: ignore[arg-type]


def error(counted: int, truth: int) -> float:
    return abs(counted - truth) / truth


def test_motion_counting_matches_the_ground_truth(scene_video: Path, scene: SyntheticScene) -> None:
    records: list[TrafficFlowObserved] = []
    report = process_camera(motion_camera(scene_video, scene), on_flow=records.append, started_at=START)
    truth = scene.ground_truth()
    counted = Counter(
        {(TrafficClass(kind), direction): n for (_, direction, kind), n in report.counts.items()}
    )
    assert sum(truth.values()) >= 30
    assert error(sum(counted.values()), sum(truth.values())) <= 0.05
    for direction in ("forward", "backward"):
        wanted = sum(n for (_, d), n in truth.items() if d == direction)
        assert error(sum(n for (_, d), n in counted.items() if d == direction), wanted) <= 0.05
    misclassified = sum((truth - counted).values())
    assert misclassified <= 0.1 * sum(truth.values())
    # The flow records add up to the same counts, interval by interval, and cover the whole video.
    assert sum(r.intensity or 0 for r in records) == sum(counted.values())
    assert records[0].date_from == START
    assert (records[-1].date_to - START).total_seconds() == pytest.approx(scene.duration_s, abs=0.1)
    assert all(r.occupancy is not None and 0 < r.occupancy <= 1 for r in records)


def test_flow_is_flushed_before_a_truncated_file_is_reported(tmp_path: Path) -> None:
    scene = random_scene(seed=9, duration_s=8.0, vehicles_per_lane=3)
    whole = write_video(scene, tmp_path / "whole.mkv")
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    records: list[TrafficFlowObserved] = []
    with pytest.raises(TruncatedStreamError):
        process_camera(motion_camera(cut, scene), on_flow=records.append, started_at=START)
    assert records and records[-1].date_to < START.replace(second=8)


@pytest.mark.slow
def test_detector_mode_counts_pedestrians_on_real_video(detector: NanoDetDetector, vtest_avi: Path) -> None:
    """vtest.avi: people walk across a square; a line across the middle of the picture counts them."""
    config = CameraConfig(
        "vtest",
        SourceConfig(str(vtest_avi), sample_fps=2.0),
        lines=(CountLine("middle", (0.0, 300.0), (768.0, 300.0)),),
        classes=frozenset({TrafficClass.PERSON}),
        interval_s=10.0,
    )
    records: list[TrafficFlowObserved] = []
    report = process_camera(config, detector=detector, on_flow=records.append, started_at=START)
    assert report.frames == pytest.approx(795 / 5, abs=2)  # 10 fps sampled to 2
    assert report.detector_runs + report.skipped_by_gate == report.frames
    walked = report.total()
    assert walked >= 5  # people cross that line in both directions during the 80 s
    assert {direction for (_, direction, _) in report.counts} == {"forward", "backward"}
    pedestrians = sum(r.as_smart_data_model()["pedestrianIntensity"] for r in records)
    assert pedestrians == walked
    assert all(r.intensity == 0 for r in records)  # no vehicle


def test_it_refuses_the_event_loop_but_runs_in_a_worker_thread(short: tuple[Path, SyntheticScene]) -> None:
    scene_video, scene = short
    config = motion_camera(scene_video, scene)

    async def on_the_loop() -> None:
        process_camera(config)

    with pytest.raises(RuntimeError, match="never on the event loop"):
        asyncio.run(on_the_loop())

    async def in_a_thread() -> int:
        report = await asyncio.to_thread(process_camera, config)
        return report.total()

    assert asyncio.run(in_a_thread()) == sum(scene.ground_truth().values()) > 0


def test_cameras_run_side_by_side_in_threads(short: tuple[Path, SyntheticScene]) -> None:
    scene_video, scene = short
    handles = [start_camera(motion_camera(scene_video, scene, interval_s=60.0)) for _ in range(2)]
    reports = [handle.join(timeout=120) for handle in handles]
    assert all(handle.error is None for handle in handles)
    assert reports[0] is not None and reports[1] is not None
    assert reports[0].counts == reports[1].counts


def test_a_broken_camera_does_not_take_the_worker_down(
    tmp_path: Path, short: tuple[Path, SyntheticScene]
) -> None:
    scene_video, scene = short
    garbage = tmp_path / "broken.mp4"
    garbage.write_bytes(b"\x00" * 1000)
    broken = start_camera(motion_camera(garbage, scene))
    healthy = start_camera(motion_camera(scene_video, scene))
    broken.join(timeout=60)
    assert healthy.join(timeout=120) is not None
    assert broken.report is None and "broken.mp4" in str(broken.error)


def test_detector_mode_needs_a_detector(short: tuple[Path, SyntheticScene]) -> None:
    scene_video, scene = short
    with pytest.raises(ValueError, match=r"^detector: "):
        process_camera(motion_camera(scene_video, scene, mode="detector"))
