"""Video analytics throughput and counting accuracy on CPU.

    .venv/bin/python benchmarks/traffic.py [--runs 3] [--cameras 9] [--model var/models/nanodet.onnx]

Measures, in one run, on synthetic 640x360 25 fps H.264 videos made by `cityops.traffic.demo.synthetic`:
  (a) motion pipeline frames/s (decode -> MOG2 gate -> blobs -> ByteTrack -> lines -> flow), every frame,
      one camera in one thread, and two cameras in two processes (the 2-core aggregate); target >= 400;
  (b) cameras sustained at 5 detections/s: N cameras in threads of one process share one NanoDet
      detector (2 intra-op threads), each decoding all 25 frames/s and detecting on 5 of them, motion gate
      off (the worst case); "cameras sustained" = seconds of video processed per second of wall time,
      summed over cameras; target >= 9;
  (c) counting error against the generator's ground truth, motion mode, over several seeds; target <= 5 %.
Peers, measured in the same run: for (a) PyAV decoding + OpenCV MOG2 alone, every frame, one thread (the
floor any motion pipeline on these libraries pays); for (b) onnxruntime running the same model back to
back on one prepared input with the same 2 threads (no decoding, no tracking): its detections/s / 5 is the
most cameras the model alone allows. With --int8 the same (b) rows are measured again for the int8
detector (`--int8 PATH`, or bare `--int8` to quantise --model here on the real footage this machine has,
as `cityops traffic models` does), and the two models' bare rates are taken interleaved, run by run, so
their ratio compares like with like. Prints medians over the runs. The machine's load average is printed too: other work on the same cores
lowers (a) and (b).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
import onnxruntime as ort

from cityops.traffic.analytics.counting import CountLine
from cityops.traffic.analytics.pipeline import CameraConfig, process_camera, start_camera
from cityops.traffic.demo.synthetic import SyntheticScene, random_scene, size_bands, write_video
from cityops.traffic.models.quantization import calibration_frames, quantize_detector, well_known_files
from cityops.traffic.models.weights import WEIGHTS_FILE, default_models_dir
from cityops.traffic.video.detector import NanoDetDetector
from cityops.traffic.video.sources import SourceConfig

REPO = Path(__file__).resolve().parent.parent
# What `cityops traffic models` installs (the FP32 model; the benchmark quantises its own int8 copy).
MODEL = default_models_dir() / WEIGHTS_FILE
QUANTISE_HERE = Path("quantise-here")


def motion_config(video: Path, scene: SyntheticScene, camera_id: str = "bench") -> CameraConfig:
    start, end = scene.counting_line()
    return CameraConfig(
        camera_id,
        SourceConfig(str(video), sample_fps=None),
        mode="motion",
        lines=(CountLine("line", start, end, anchor="centre"),),
        size_bands=size_bands(),
    )


def motion_fps(video: Path, scene: SyntheticScene) -> float:
    report = process_camera(motion_config(video, scene))
    return report.frames / report.elapsed_s


def _motion_worker(args: tuple[str, int]) -> tuple[int, float, float]:
    video, seed = args
    cv2.setNumThreads(1)  # one core per process: OpenCV's own threads would fight the other process
    scene = random_scene(seed=seed, duration_s=30.0, vehicles_per_lane=14)
    began = time.perf_counter()
    report = process_camera(motion_config(Path(video), scene))
    return report.frames, began, time.perf_counter()


def motion_fps_two_processes(video: Path, seed: int) -> float:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_motion_worker, [(str(video), seed)] * 2)
    frames = sum(frames for frames, _, _ in results)
    wall = max(end for _, _, end in results) - min(began for _, began, _ in results)
    return frames / wall


def cameras_sustained(
    video: Path, duration_s: float, cameras: int, detector: NanoDetDetector
) -> tuple[float, float]:
    """(video seconds per wall second summed over cameras, detections per wall second)."""
    configs = [
        CameraConfig(f"cam-{i}", SourceConfig(str(video), sample_fps=5.0), motion_gate=False)
        for i in range(cameras)
    ]
    began = time.perf_counter()
    handles = [start_camera(config, detector=detector) for config in configs]
    reports = [handle.join() for handle in handles]
    wall = time.perf_counter() - began
    errors = [handle.error for handle in handles if handle.error is not None]
    if errors:
        raise RuntimeError(f"a camera failed: {errors[0]}")
    detections = sum(report.detector_runs for report in reports if report is not None)
    return cameras * duration_s / wall, detections / wall


def counting_errors(folder: Path, seeds: range) -> list[float]:
    errors = []
    for seed in seeds:
        scene = random_scene(seed=seed, duration_s=30.0, vehicles_per_lane=14)
        video = write_video(scene, folder / f"count-{seed}.mp4")
        truth = sum(scene.ground_truth().values())
        counted = process_camera(motion_config(video, scene)).total()
        errors.append(abs(counted - truth) / truth)
        video.unlink()
    return errors


def bare_decode_mog2_fps(video: Path) -> float:
    """The peer of (a): decode every frame and feed MOG2, nothing else."""
    subtractor = cv2.createBackgroundSubtractorMOG2(history=500, detectShadows=False)
    frames = 0
    began = time.perf_counter()
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            subtractor.apply(frame.to_ndarray(format="bgr24"))
            frames += 1
    return frames / (time.perf_counter() - began)


def bare_inference_rate(model: Path, seconds: float = 5.0) -> float:
    """The peer of (b): onnxruntime alone, one prepared 416x416 input, 2 intra-op threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    tensor = np.random.default_rng(0).standard_normal((1, 3, 416, 416)).astype(np.float32)
    session.run(None, {name: tensor})
    runs = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        session.run(None, {name: tensor})
        runs += 1
    return runs / (time.perf_counter() - began)


def int8_model(requested: Path | None, fp32: Path, folder: Path) -> Path:
    if requested is not None and requested != QUANTISE_HERE:
        return requested
    files = well_known_files()
    if not files:
        raise SystemExit("--int8: no real footage on this machine to calibrate on; pass an int8 model path")
    began = time.perf_counter()
    path = quantize_detector(fp32, folder / "nanodet-int8.onnx", calibration_frames(files))
    print(
        f"    int8 model quantised here in {time.perf_counter() - began:.0f} s on {', '.join(map(str, files))}"
    )
    return path


def int8_rows(args: argparse.Namespace, video: Path, duration_s: float, folder: Path) -> None:
    """(b) again for the int8 detector, and the bare rates of both models measured interleaved."""
    model = int8_model(args.int8, args.model, folder)
    detector = NanoDetDetector(model, threads=2)
    sustained, rates = [], []
    for _ in range(args.runs):
        cams, rate = cameras_sustained(video, duration_s, args.cameras, detector)
        sustained.append(cams)
        rates.append(rate)
    print(
        f"(b) int8 ({model.name}): cameras sustained at 5 detections/s ({args.cameras} in threads): "
        f"{statistics.median(sustained):.1f} (target >= 9); {statistics.median(rates):.1f} detections/s"
    )
    print(f"    runs: {', '.join(f'{v:.1f}' for v in sustained)}")
    fp32_rates, int8_rates = [], []
    for _ in range(args.runs):
        fp32_rates.append(bare_inference_rate(args.model))
        int8_rates.append(bare_inference_rate(model))
    fp32, int8 = statistics.median(fp32_rates), statistics.median(int8_rates)
    print(
        f"    peer: onnxruntime alone, 2 threads, interleaved: int8 {int8:.1f} detections/s = "
        f"{int8 / 5:.1f} cameras at 5/s ({1000 / int8:.1f} ms); FP32 {fp32:.1f} detections/s "
        f"({1000 / fp32:.1f} ms) -> int8 {int8 / fp32:.2f}x; pipeline {statistics.median(sustained) / (int8 / 5):.2f}x "
        "of int8 alone"
    )
    print(f"    runs int8: {', '.join(f'{v:.1f}' for v in int8_rates)}")
    print(f"    runs FP32: {', '.join(f'{v:.1f}' for v in fp32_rates)}")


def median_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    values = [measure() for _ in range(runs)]
    return statistics.median(values), values


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cameras", type=int, default=9)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--seeds", type=int, default=10, help="synthetic scenes for the counting error")
    parser.add_argument(
        "--int8",
        type=Path,
        nargs="?",
        const=QUANTISE_HERE,
        help="also measure (b) with this int8 model (no path: quantise --model here on real footage)",
    )
    parser.add_argument("--only-detector", action="store_true", help="measure (b) only, skip (a) and (c)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scene = random_scene(seed=1, duration_s=30.0, vehicles_per_lane=14)
        video = write_video(scene, folder / "motion.mp4")

        if not args.only_detector:
            single, values = median_of(args.runs, lambda: motion_fps(video, scene))
            print(f"(a) motion pipeline, 640x360, 1 camera / 1 thread: {single:.0f} frames/s")
            print(f"    runs: {', '.join(f'{v:.0f}' for v in values)}")
            floor, values = median_of(args.runs, lambda: bare_decode_mog2_fps(video))
            print(
                f"    peer: PyAV decode + MOG2 alone, 1 thread: {floor:.0f} frames/s (pipeline {single / floor:.2f}x)"
            )
            print(f"    runs: {', '.join(f'{v:.0f}' for v in values)}")
            pair, values = median_of(args.runs, lambda: motion_fps_two_processes(video, 1))
            print(
                f"(a) motion pipeline, 640x360, 2 cameras / 2 processes: {pair:.0f} frames/s (target >= 400)"
            )
            print(f"    runs: {', '.join(f'{v:.0f}' for v in values)}")

        if args.model.is_file():
            detector = NanoDetDetector(args.model, threads=2)
            sustained = []
            rates = []
            for _ in range(args.runs):
                cams, rate = cameras_sustained(video, scene.duration_s, args.cameras, detector)
                sustained.append(cams)
                rates.append(rate)
            print(
                f"(b) cameras sustained at 5 detections/s ({args.cameras} in threads, one shared detector): "
                f"{statistics.median(sustained):.1f} (target >= 9); {statistics.median(rates):.1f} detections/s"
            )
            print(f"    runs: {', '.join(f'{v:.1f}' for v in sustained)}")
            bare, values = median_of(args.runs, lambda: bare_inference_rate(args.model))
            ceiling = bare / 5
            print(
                f"    peer: onnxruntime alone, 2 threads: {bare:.1f} detections/s = {ceiling:.1f} cameras at 5/s "
                f"(pipeline {statistics.median(sustained) / ceiling:.2f}x of it)"
            )
            print(f"    runs: {', '.join(f'{v:.1f}' for v in values)}")
        else:
            print(f"(b) skipped: no model at {args.model}")

        if args.int8 is not None:
            int8_rows(args, video, scene.duration_s, folder)

        if not args.only_detector:
            errors = counting_errors(folder, range(100, 100 + args.seeds))
            print(
                f"(c) counting error vs ground truth over {len(errors)} scenes: median {statistics.median(errors):.1%}, "
                f"worst {max(errors):.1%} (target <= 5 %)"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
