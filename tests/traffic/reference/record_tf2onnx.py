"""Record what the tf2onnx conversion of NanoDet outputs on two real photographs, for test_tfjs_onnx.

Run once, by hand, where a tf2onnx conversion of the same npm package exists (`tf2onnx_nanodet.json`
says which file, with its sha256); the tests then compare cityops' own converter against these numbers
without needing that file or TensorFlow:

    .venv/bin/python tests/traffic/reference/record_tf2onnx.py /path/to/nanodet.onnx DOG_JPG BUS_JPG
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from cityops.traffic.video.detector import NanoDetDetector

RANDOM_SAMPLES = 160
TOP_SAMPLES = 32


def record(model: Path, photos: dict[str, Path]) -> dict[str, object]:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    detector = NanoDetDetector(model)
    rng = np.random.default_rng(0)
    result: dict[str, object] = {
        "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "inputs": [[t.name, t.shape, t.type] for t in session.get_inputs()],
        "outputs": [[t.name, t.shape, t.type] for t in session.get_outputs()],
        "photos": {},
    }
    for name, path in photos.items():
        image = cv2.imread(str(path))
        blob = detector.preprocess(image)
        values = session.run(None, {session.get_inputs()[0].name: blob})
        samples = {}
        for output, tensor in zip(session.get_outputs(), values, strict=True):
            flat = tensor.ravel()
            picked = np.unique(
                np.concatenate([rng.choice(flat.size, RANDOM_SAMPLES), np.argsort(flat)[-TOP_SAMPLES:]])
            )
            samples[output.name] = {"index": picked.tolist(), "value": flat[picked].tolist()}
        found = detector.detect(image)
        result["photos"][name] = {  # type: ignore[index]
            "samples": samples,
            "classes": [str(c) for c in found.classes()],
            "boxes": found.boxes.round(2).tolist(),
            "scores": found.scores.round(5).tolist(),
        }
    return result


if __name__ == "__main__":
    model, dog, bus = (Path(arg) for arg in sys.argv[1:4])
    target = Path(__file__).with_name("tf2onnx_nanodet.json")
    target.write_text(json.dumps(record(model, {"dog_jpg": dog, "bus_jpg": bus})) + "\n", encoding="utf-8")
    print(target)
