"""Road users in a frame, found by a NanoDet-family ONNX model run with ONNX Runtime on the CPU.

The model is a parameter: the NanoDet-m-416 conversion the project tests with, or any user-supplied
ONNX export of the same head ("NanoDet-Plus"/GFL layout), with its own input size and classes:

- one float32 NCHW input (any square size; read from the model), the frame resized to it in BGR order
  and normalised with `mean`/`std`;
- for each stride (8, 16, 32, ... matched to grid size), one output of class scores [1, cells, classes]
  already through a sigmoid, and one of box distributions [1, cells, 4 * bins] (softmax over the bins,
  expectation times the stride = distance from the cell centre to the left, top, right, bottom edges).

Which model class is which road user is a class map, `{model class index: traffic class}`; classes
absent from it are ignored. The default is COCO's (person 0, bicycle 1, car 2, motorcycle 3, bus 5,
truck 7). A user's model brings its own as JSON, e.g. `{"0": "motorbike", "1": "car", "4": "bus"}`,
read with `load_class_map`; the values are the names of `TrafficClass`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from cityops.traffic.video.detections import Detections, TrafficClass, class_index, require_image

COCO_CLASS_MAP: Mapping[int, TrafficClass] = {
    0: TrafficClass.PERSON,
    1: TrafficClass.BICYCLE,
    2: TrafficClass.CAR,
    3: TrafficClass.MOTORBIKE,
    5: TrafficClass.BUS,
    7: TrafficClass.TRUCK,
}
NANODET_MEAN = (103.53, 116.28, 123.675)
NANODET_STD = (57.375, 57.12, 58.395)


def parse_class_map(raw: object) -> dict[int, TrafficClass]:
    """A class map from decoded JSON: an object of model class index (as text) to traffic class name."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("class_map: expected a non-empty JSON object of model class index -> traffic class")
    result: dict[int, TrafficClass] = {}
    names = ", ".join(TrafficClass)
    for key, value in raw.items():
        if not isinstance(key, str) or not key.isdigit():
            raise ValueError(f"class_map[{key!r}]: the key must be a model class index (0, 1, 2, ...)")
        if not isinstance(value, str) or value not in {member.value for member in TrafficClass}:
            raise ValueError(f"class_map[{key!r}]: {value!r} is not a traffic class (one of {names})")
        result[int(key)] = TrafficClass(value)
    return result


def load_class_map(path: Path) -> dict[int, TrafficClass]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"class_map: {path} is not valid JSON ({exc})") from exc
    return parse_class_map(raw)


def class_map_beside(model_path: Path) -> Path:
    """Where a user-supplied model's class map lives: `mymodel.onnx` → `mymodel.classes.json`."""
    return Path(model_path).with_suffix(".classes.json")


def open_detector(model_path: Path, **options: Any) -> NanoDetDetector:
    """The detector of `model_path`, with the class map beside it if there is one (else COCO's)."""
    sidecar = class_map_beside(model_path)
    if sidecar.is_file():
        options.setdefault("class_map", load_class_map(sidecar))
    return NanoDetDetector(model_path, **options)


@dataclass(frozen=True)
class _Level:
    stride: int
    grid: int
    scores: str
    boxes: str
    centres: NDArray[np.float32]
    """cells x 2, (x, y) of each cell centre in model-input pixels."""


class NanoDetDetector:
    """Thread-safe: one instance may serve several camera threads (runs are serialised)."""

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 2,
        class_map: Mapping[int, TrafficClass] = COCO_CLASS_MAP,
        score_threshold: float = 0.35,
        iou_threshold: float = 0.5,
        bins: int = 11,
        mean: tuple[float, float, float] = NANODET_MEAN,
        std: tuple[float, float, float] = NANODET_STD,
    ) -> None:
        if not Path(model_path).is_file():
            raise FileNotFoundError(
                f"model_path: no ONNX model at {model_path} (`cityops traffic models` installs NanoDet)"
            )
        if threads < 1:
            raise ValueError(f"threads: must be at least 1 (got {threads})")
        if not 0 < score_threshold < 1 or not 0 < iou_threshold < 1:
            raise ValueError("score_threshold, iou_threshold: must lie strictly between 0 and 1")
        if not class_map:
            raise ValueError("class_map: must map at least one model class")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()
        model_input = self._session.get_inputs()[0]
        self._input_name: str = model_input.name
        self.size = int(model_input.shape[-1])
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self._bins = bins
        self._mean = np.array(mean, np.float32)
        self._scale = 1 / np.array(std, np.float32)
        self._levels = self._find_levels(bins)
        classes = max(class_map) + 1
        if classes > self._classes:
            raise ValueError(f"class_map: index {classes - 1} but the model has only {self._classes} classes")
        self._model_classes = np.array(sorted(class_map), np.int64)
        self._traffic_labels = np.array([class_index(class_map[i]) for i in self._model_classes], np.int64)
        self._projection = np.arange(bins, dtype=np.float32)

    def _find_levels(self, bins: int) -> list[_Level]:
        by_cells: dict[int, dict[str, str]] = {}
        class_counts = set()
        for output in self._session.get_outputs():
            shape = output.shape
            if len(shape) != 3 or not all(isinstance(d, int) for d in shape[1:]):
                raise ValueError(f"model: output {output.name} has shape {shape}, not [1, cells, channels]")
            kind = "boxes" if shape[2] == 4 * bins else "scores"
            if kind == "scores":
                class_counts.add(shape[2])
            by_cells.setdefault(shape[1], {})[kind] = output.name
        if len(class_counts) != 1:
            raise ValueError(
                f"model: expected one class-score width across outputs, found {sorted(class_counts)}"
            )
        self._classes = class_counts.pop()
        levels = []
        for cells, names in sorted(by_cells.items(), reverse=True):
            grid = round(cells**0.5)
            if grid * grid != cells or set(names) != {"scores", "boxes"}:
                raise ValueError(
                    f"model: outputs with {cells} cells are not a square grid with scores and boxes"
                )
            stride = self.size // grid
            rows, cols = np.mgrid[0:grid, 0:grid]
            centres = np.stack([(cols.ravel() + 0.5) * stride, (rows.ravel() + 0.5) * stride], 1)
            levels.append(_Level(stride, grid, names["scores"], names["boxes"], centres.astype(np.float32)))
        return levels

    @property
    def input_name(self) -> str:
        return self._input_name

    def preprocess(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        resized = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        blob = (resized.astype(np.float32) - self._mean) * self._scale
        return np.ascontiguousarray(blob.transpose(2, 0, 1)[None])

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        require_image(image)
        blob = self.preprocess(image)
        with self._lock:
            outputs = self._session.run(None, {self._input_name: blob})
        named = dict(zip((o.name for o in self._session.get_outputs()), outputs, strict=True))
        return self._decode(named, width=image.shape[1], height=image.shape[0])

    def _decode(self, outputs: dict[str, Any], *, width: int, height: int) -> Detections:
        boxes, scores, labels = [], [], []
        for level in self._levels:
            class_scores = outputs[level.scores][0][:, self._model_classes]
            best = class_scores.argmax(1)
            best_score = class_scores[np.arange(len(best)), best]
            cells = np.flatnonzero(best_score >= self.score_threshold)
            if not len(cells):
                continue
            logits = outputs[level.boxes][0][cells].reshape(-1, 4, self._bins)
            weights = np.exp(logits - logits.max(2, keepdims=True))
            distances = (weights @ self._projection) / weights.sum(2) * level.stride
            centres = level.centres[cells]
            boxes.append(np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], 1))
            scores.append(best_score[cells])
            labels.append(self._traffic_labels[best[cells]])
        if not boxes:
            return Detections.empty()
        all_boxes = np.concatenate(boxes).astype(np.float32)
        all_boxes *= np.array([width, height, width, height], np.float32) / self.size
        np.clip(all_boxes, 0, [width, height, width, height], out=all_boxes)
        all_scores = np.concatenate(scores).astype(np.float32)
        all_labels = np.concatenate(labels)
        keep = per_class_nms(all_boxes, all_scores, all_labels, self.iou_threshold)
        return Detections(all_boxes[keep], all_scores[keep], all_labels[keep])


def per_class_nms(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], labels: NDArray[np.int64], iou: float
) -> NDArray[np.int64]:
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)
    kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), labels.tolist(), 0.0, iou)
    return np.asarray(kept, np.int64).reshape(-1)
