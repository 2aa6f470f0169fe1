"""Counting and incidents in dense mixed traffic, on scenes the settings were not tuned on.

    .venv/bin/python benchmarks/traffic_dense.py [--seeds 100-109] [--processes 2]

Each seed is a 90 s scene of `cityops.traffic.demo.dense` (six lanes both ways, ~240 crossings, a lamp
post and a sign near the line, buses meeting and overtaking, a car stopped on the far shoulder behind
passing traffic, a wrong-way motorbike) seen by its simulated detector at 5 frames/s. The settings were
tuned on seeds 0-4; 100-109 are held out (103 was studied to find why it missed), and 200-219 were
first run for the final figures. Prints per seed and as medians: the error of the total count and of the
worse direction, the crossings missed and counted extra (paired with the scene's vehicles, so they do not
cancel out), whether the stopped car and the wrong-way motorbike were reported, and false
alarms, for the current settings and, as the peer in the same run, the tracker as it was configured
before (plain IoU matching, tracks dropped after 1 s hidden).
"""

from __future__ import annotations

import argparse
import statistics
from multiprocessing import Pool

from cityops.traffic.demo.dense import DenseResult, dense_analysis, dense_scene, run_dense

SETTINGS: dict[str, dict[str, float]] = {
    "current": {},
    "before (IoU, 1 s)": {"match_buffer": 0.0, "lost_track_s": 1.0},
}


def measure(job: tuple[str, int]) -> tuple[str, DenseResult]:
    name, seed = job
    return name, run_dense(dense_scene(seed), dense_analysis(**SETTINGS[name]))


def seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=seeds, default=seeds("100-109"))
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    jobs = [(name, seed) for name in SETTINGS for seed in args.seeds]
    with Pool(args.processes) as pool:
        results = pool.map(measure, jobs)
    for name in SETTINGS:
        mine = [result for label, result in results if label == name]
        for r in mine:
            print(
                f"{name:18} seed {r.seed}: truth {dict(r.truth)} counted {dict(r.counted)} "
                f"error {r.count_error:.1%} (worse direction {r.direction_error:.1%}; missed {r.missed}, "
                f"extra {r.extra}); stopped "
                f"{'found' if r.found_stopped else 'MISSED'}, wrong way {'found' if r.found_wrong_way else 'MISSED'}, "
                f"false alarms {len(r.false_alarms)}"
            )
        print(
            f"{name:18} median count error {statistics.median(r.count_error for r in mine):.1%} "
            f"(max {max(r.count_error for r in mine):.1%}), worse direction "
            f"{statistics.median(r.direction_error for r in mine):.1%}; missed {sum(r.missed for r in mine)}, "
            f"extra {sum(r.extra for r in mine)} of {sum(sum(r.truth.values()) for r in mine)} crossings; stopped found "
            f"{sum(r.found_stopped for r in mine)}/{len(mine)}, wrong way found "
            f"{sum(r.found_wrong_way for r in mine)}/{len(mine)}, false alarms {sum(len(r.false_alarms) for r in mine)}"
        )


if __name__ == "__main__":
    main()
