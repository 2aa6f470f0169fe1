"""Counting accuracy on real footage: the pipeline against a hand count of OpenCV's vtest.avi.

    .venv/bin/python benchmarks/traffic_footage.py [--runs detector:5 detector:10 motion:10 ...]

The hand count, its counting line and the video's provenance are in
tests/traffic/footage/vtest_handcount.toml (see the README beside it). Each run (mode:sample fps) runs
`process_camera` on the video with that line, flow records cut every second, and pairs each counted
crossing with a hand-counted one in the same direction at most `tolerance_frames` away, so that a
missed crossing and a false one never cancel out. Prints, per run: counts per direction, missed and
false crossings (hand-count ids and seconds), the error of the total and the time taken.
tests/traffic/test_real_footage.py imports the loading and pairing from here.
"""

from __future__ import annotations

import argparse
import hashlib
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cityops.traffic.analytics.counting import CountLine
from cityops.traffic.analytics.flow import TrafficFlowObserved
from cityops.traffic.analytics.pipeline import CameraConfig, process_camera
from cityops.traffic.models.weights import WEIGHTS_FILE, default_models_dir
from cityops.traffic.video.detections import CLASSES, TrafficClass
from cityops.traffic.video.detector import NanoDetDetector
from cityops.traffic.video.sources import SourceConfig

REPO = Path(__file__).resolve().parent.parent
HANDCOUNT = REPO / "tests" / "traffic" / "footage" / "vtest_handcount.toml"
# What `cityops traffic models` installs (the FP32 model; the benchmark quantises its own int8 copy).
MODEL = default_models_dir() / WEIGHTS_FILE
START = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class HandCrossing:
    id: int
    time_s: float
    direction: str


@dataclass(frozen=True)
class HandCount:
    video: Path
    sha256: str
    fps: float
    line: CountLine
    crossings: tuple[HandCrossing, ...]
    tolerance_s: float
    totals: dict[str, int]


def load_handcount(path: Path = HANDCOUNT) -> HandCount:
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    video, line = data["video"], data["line"]
    fps = float(video["fps"])
    return HandCount(
        video=Path(video["file"]),
        sha256=video["sha256"],
        fps=fps,
        line=CountLine(
            line["name"],
            tuple(line["start"]),
            tuple(line["end"]),
            directions=tuple(line["directions"]),
            anchor=line["anchor"],
        ),
        crossings=tuple(HandCrossing(c["id"], c["frame"] / fps, c["direction"]) for c in data["crossing"]),
        tolerance_s=data["method"]["tolerance_frames"] / fps,
        totals=dict(data["totals"]),
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Counted:
    """One crossing the pipeline reported, known to within its one-second flow interval."""

    start_s: float
    end_s: float
    direction: str


@dataclass(frozen=True)
class Comparison:
    counted: tuple[Counted, ...]
    missed: tuple[HandCrossing, ...]
    false: tuple[Counted, ...]

    def total_error(self, truth: int) -> float:
        return abs(len(self.counted) - truth) / truth

    def count(self, direction: str) -> int:
        return sum(c.direction == direction for c in self.counted)


def count_crossings(
    handcount: HandCount,
    mode: Literal["detector", "motion"],
    sample_fps: float,
    detector: NanoDetDetector | None = None,
) -> tuple[Counted, ...]:
    config = CameraConfig(
        "vtest",
        SourceConfig(str(handcount.video), sample_fps=sample_fps),
        mode=mode,
        lines=(handcount.line,),
        classes=frozenset({TrafficClass.PERSON}) if mode == "detector" else frozenset(CLASSES),
        interval_s=1.0,
    )
    records: list[TrafficFlowObserved] = []
    process_camera(config, detector=detector, on_flow=records.append, started_at=START)
    counted = []
    for record in records:
        start_s = (record.date_from - START).total_seconds()
        end_s = (record.date_to - START).total_seconds()
        assert record.direction is not None
        counted += [Counted(start_s, end_s, record.direction)] * sum(record.intensity_by_class.values())
    return tuple(counted)


def compare(handcount: HandCount, counted: tuple[Counted, ...]) -> Comparison:
    """Pair each counted crossing with the nearest unpaired hand-counted one in the same direction."""
    unpaired = list(handcount.crossings)
    false = []
    for crossing in counted:
        candidates = [
            hand
            for hand in unpaired
            if hand.direction == crossing.direction
            and crossing.start_s - handcount.tolerance_s
            <= hand.time_s
            <= crossing.end_s + handcount.tolerance_s
        ]
        if not candidates:
            false.append(crossing)
            continue
        middle = (crossing.start_s + crossing.end_s) / 2
        unpaired.remove(min(candidates, key=lambda hand: abs(hand.time_s - middle)))
    return Comparison(counted, tuple(unpaired), tuple(false))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", nargs="+", default=["detector:10", "detector:5", "detector:3", "detector:2", "motion:10"]
    )
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args()
    handcount = load_handcount()
    if sha256_of(handcount.video) != handcount.sha256:
        raise SystemExit(f"{handcount.video} is not the file that was counted (sha256 differs)")
    forward, backward = handcount.line.directions
    truth = len(handcount.crossings)
    print(
        f"hand count: {truth} ({forward} {handcount.totals[forward]}, {backward} {handcount.totals[backward]})"
    )
    detector = None
    for run in args.runs:
        mode, fps = run.split(":")
        if mode == "detector" and detector is None:
            detector = NanoDetDetector(args.model)
        began = time.perf_counter()
        result = compare(handcount, count_crossings(handcount, mode, float(fps), detector))
        missed = ", ".join(f"#{c.id} ({c.time_s:.1f} s)" for c in result.missed) or "none"
        false = ", ".join(f"{c.start_s:.0f}-{c.end_s:.0f} s {c.direction}" for c in result.false) or "none"
        print(
            f"{mode} at {fps} fps: {len(result.counted)} ({forward} {result.count(forward)}, "
            f"{backward} {result.count(backward)}), error {result.total_error(truth):.1%}, "
            f"missed {missed}; false {false}; {time.perf_counter() - began:.1f} s"
        )


if __name__ == "__main__":
    main()
