"""An int8 copy of the detector, quantised on this machine with ONNX Runtime's own tooling.

`quantize_detector` runs `onnxruntime.quantization.quant_pre_process` (shape inference and graph
optimisation) and `quantize_static` in QDQ format on the convolutions: weights int8 per output channel,
activations uint8 (the u8s8 pairing ONNX Runtime's x86 kernels use with AVX2/AVX-512/VNNI), ranges
calibrated (min/max) on real frames, each resized and normalised by the FP32 detector's own
`preprocess`. Frames come from images and videos (`calibration_frames`): the user's own cameras'
footage is the best calibration, since the ranges then cover what the deployed cameras see; varied
scenes matter (measured: calibrated on one grey pedestrian clip alone, a bicycle's score on a sunny
street photograph fell from 0.68 to 0.56; with a second, colourful street clip added it stayed within
0.04 of FP32).

What is written beside the int8 model, `<name>.provenance.json`, names the FP32 model it was made
from (sha256), the settings and every calibration file with the frames taken from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import onnx
import onnxruntime as ort
from numpy.typing import NDArray
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from cityops.traffic.video.detector import NanoDetDetector

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".ts", ".m4v", ".webm"})
MAX_FRAMES = 64
"""Calibration frames at most (spread over all files); min/max ranges settle well before that."""
MIN_FRAMES = 8
"""Fewer real frames than this give ranges too narrow to trust: refused."""
MAX_FILES = 200
# Debian packages' real footage and photographs, used when the user names no folder of their own.
WELL_KNOWN_FRAMES = (
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),  # opencv-doc: a fixed street camera
    Path("/usr/share/darknet/data/dog.jpg"),  # darknet: a bicycle and a truck in a street
)


class CalibrationError(ValueError):
    """The calibration frames cannot be read or are too few; the message names the file or folder."""


@dataclass(frozen=True)
class CalibrationSet:
    frames: list[NDArray[np.uint8]]
    taken: dict[str, int]
    """File → number of frames taken from it."""


def calibration_files(folder: Path) -> list[Path]:
    """The images and videos directly inside `folder`, sorted by name."""
    if not folder.is_dir():
        raise CalibrationError(f"--calibration: {folder} is not a folder")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
    )
    if not files:
        kinds = ", ".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES | VIDEO_SUFFIXES))
        raise CalibrationError(f"--calibration: {folder} holds no image or video ({kinds})")
    if len(files) > MAX_FILES:
        raise CalibrationError(f"--calibration: {folder} holds {len(files)} files, more than {MAX_FILES}")
    return files


def calibration_frames(files: Sequence[Path], max_frames: int = MAX_FRAMES) -> CalibrationSet:
    """BGR frames from images and videos (spread evenly through each video), at most `max_frames`."""
    images = [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]
    videos = [f for f in files if f.suffix.lower() in VIDEO_SUFFIXES]
    frames: list[NDArray[np.uint8]] = []
    taken: dict[str, int] = {}
    for path in images[:max_frames]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            raise CalibrationError(f"--calibration: {path} is not a readable image")
        frames.append(np.asarray(image, np.uint8))
        taken[str(path)] = 1
    room = max_frames - len(frames)
    for index, path in enumerate(videos):
        share = room // (len(videos) - index)
        if share < 1:
            break
        from_video = _video_frames(path, share)
        frames.extend(from_video)
        taken[str(path)] = len(from_video)
        room -= len(from_video)
    if len(frames) < MIN_FRAMES:
        raise CalibrationError(
            f"--calibration: only {len(frames)} frame(s) in {', '.join(map(str, files))}; at least "
            f"{MIN_FRAMES} are needed (a few images, or a short video, of the cameras to be watched)"
        )
    return CalibrationSet(frames, taken)


def _video_frames(path: Path, wanted: int) -> list[NDArray[np.uint8]]:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise CalibrationError(f"--calibration: {path} has no video stream")
            stream = container.streams.video[0]
            every = max(1, (stream.frames or 25 * wanted) // wanted)
            kept: list[NDArray[np.uint8]] = []
            for number, frame in enumerate(container.decode(stream)):
                if number % every == 0:
                    kept.append(np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8))
                    if len(kept) == wanted:
                        break
            return kept
    except (av.FFmpegError, OSError) as exc:
        raise CalibrationError(f"--calibration: {path} is not a readable video ({exc})") from exc


def well_known_files() -> list[Path]:
    """Real footage Debian packages put on this machine, if any (see `WELL_KNOWN_FRAMES`)."""
    return [path for path in WELL_KNOWN_FRAMES if path.is_file()]


class _Frames(CalibrationDataReader):  # type: ignore[misc]
    """Each frame resized and normalised exactly as the detector does before it runs the model."""

    def __init__(self, detector: NanoDetDetector, frames: Sequence[NDArray[np.uint8]]) -> None:
        self._blobs: Iterator[dict[str, NDArray[np.float32]]] = (
            {detector.input_name: detector.preprocess(frame)} for frame in frames
        )

    def get_next(self) -> dict[str, NDArray[np.float32]] | None:
        return next(self._blobs, None)


@dataclass(frozen=True)
class QuantizeSettings:
    per_channel: bool = True
    calibrate_method: CalibrationMethod = CalibrationMethod.MinMax
    op_types: tuple[str, ...] | None = ("Conv",)
    """Op types to quantise (None: every op ONNX Runtime can). Convolutions only is both the fastest
    and the accurate choice for NanoDet: quantising every op produced no detections at all (some
    constant tensors have a zero range) and ran slower (77 against 95 detections/s)."""
    keep_float: tuple[str, ...] = ()
    """Node names left in float."""


def quantize_detector(
    fp32_path: Path,
    int8_path: Path,
    calibration: CalibrationSet,
    settings: QuantizeSettings = QuantizeSettings(),
) -> Path:
    """Writes the int8 model (and its provenance beside it) whole or not at all."""
    detector = NanoDetDetector(fp32_path, threads=min(2, os.cpu_count() or 1))
    int8_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".quantize-", dir=int8_path.parent) as work:
        prepared = Path(work) / "prepared.onnx"
        # static shapes throughout: ONNX shape inference is enough (the symbolic one would need sympy)
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        onnx.save(_resize_over_all_axes(onnx.load(str(prepared))), str(prepared))
        staged = Path(work) / int8_path.name
        quantize_static(
            str(prepared),
            str(staged),
            _Frames(detector, calibration.frames),
            quant_format=QuantFormat.QDQ,
            per_channel=settings.per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(settings.op_types) if settings.op_types else None,
            nodes_to_exclude=list(settings.keep_float),
            calibrate_method=settings.calibrate_method,
        )
        onnx.checker.check_model(str(staged))
        provenance = {
            "from": {"file": fp32_path.name, "sha256": sha256_of(fp32_path)},
            "output": {"file": int8_path.name, "sha256": sha256_of(staged), "bytes": staged.stat().st_size},
            "tool": f"onnxruntime {ort.__version__} quantize_static, QDQ, weights int8 "
            f"{'per channel' if settings.per_channel else 'per tensor'}, activations uint8, "
            f"{settings.calibrate_method.name} calibration",
            "quantised_ops": list(settings.op_types) if settings.op_types else "all",
            "float_nodes": list(settings.keep_float),
            "calibration": calibration.taken,
        }
        staged_provenance = Path(work) / "provenance.json"
        staged_provenance.write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(staged, int8_path)
        os.replace(staged_provenance, provenance_path(int8_path))
    return int8_path


def _resize_over_all_axes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Each Resize that names its `axes` (opset 18, as `tfjs_onnx` writes) rewritten to size every axis.

    ONNX Runtime 1.32's QDQ fusions break such a Resize once a DequantizeLinear feeds it: the int8
    model then fails to load at the full optimisation level ("Number of elements of input 'sizes' (0)
    does not match the number of axes"). Sizing the other axes to what they already are is the same
    operation."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {
        value.name: [dim.dim_value for dim in value.type.tensor_type.shape.dim]
        for value in [*inferred.graph.value_info, *inferred.graph.input]
    }
    constants = {tensor.name: tensor for tensor in model.graph.initializer}
    for node in model.graph.node:
        axes = next((a for a in node.attribute if a.name == "axes"), None)
        if node.op_type != "Resize" or axes is None or len(node.input) < 4 or node.input[3] not in constants:
            continue
        sizes = list(shapes.get(node.input[0], []))
        if not sizes or 0 in sizes:
            continue  # shape unknown: left as it is
        for axis, size in zip(axes.ints, onnx.numpy_helper.to_array(constants[node.input[3]]), strict=True):
            sizes[axis % len(sizes)] = int(size)
        name = f"{node.name}/sizes_all_axes"
        model.graph.initializer.append(onnx.numpy_helper.from_array(np.array(sizes, np.int64), name))
        node.input[3] = name
        node.attribute.remove(axes)
    return model


def int8_is_current(fp32_path: Path, int8_path: Path) -> bool:
    """The int8 model is there, intact, and was made from the FP32 model now installed."""
    try:
        provenance = json.loads(provenance_path(int8_path).read_text(encoding="utf-8"))
        return bool(
            provenance["from"]["sha256"] == sha256_of(fp32_path)
            and provenance["output"]["sha256"] == sha256_of(int8_path)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def provenance_path(int8_path: Path) -> Path:
    return int8_path.with_suffix(".provenance.json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
