"""A TensorFlow.js graph model (`model.json` + weight shards) as an ONNX model, without TensorFlow.

Converts the TF ops found in NanoDet-family detectors as published in TF.js form (convolutions, plain,
depthwise or fused with a bias and an activation; padding VALID, SAME or explicit; pooling; bilinear
resize; element-wise arithmetic and activations; concat, split, reshape, transpose, pad, softmax) and
refuses any other op, naming it and the nodes that use it. Sub-graphs that only compute constants (shape
arithmetic such as `SparseToDense` + `AddV2`) are evaluated here with numpy.

TF lays images out NHWC where ONNX convolutions want NCHW: each convolution or pool on NHWC data is
wrapped in a pair of transposes, and pairs that undo each other are then removed (`simplify`).
Tensors keep TF's names (`node:0`), so a converted model's inputs and outputs are named as tf2onnx names
them (`input_1:0`, `Identity:0`, ...).
"""

from __future__ import annotations

import base64
import graphlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from cityops.traffic.models.tfjs_onnx_simplify import simplify

OPSET = 18
IR_VERSION = 9
TF_DTYPES = {"DT_FLOAT": TensorProto.FLOAT, "DT_INT32": TensorProto.INT32, "DT_INT64": TensorProto.INT64}
TO_NCHW = [0, 3, 1, 2]
TO_NHWC = [0, 2, 3, 1]


class UnsupportedGraph(ValueError):
    """The graph uses an op, or an op's form, that this converter does not translate."""


@dataclass(frozen=True)
class TfNode:
    name: str
    op: str
    inputs: tuple[str, ...]
    attr: Mapping[str, Any]

    def where(self) -> str:
        return f"node {self.name!r} ({self.op})"

    def s(self, key: str, default: str = "") -> str:
        value = self.attr.get(key, {}).get("s")
        return base64.b64decode(value).decode() if value else default

    def ints(self, key: str) -> list[int]:
        return [int(i) for i in self.attr.get(key, {}).get("list", {}).get("i", [])]

    def strings(self, key: str) -> list[str]:
        return [base64.b64decode(s).decode() for s in self.attr.get(key, {}).get("list", {}).get("s", [])]

    def f(self, key: str, default: float) -> float:
        return float(self.attr.get(key, {}).get("f", default))

    def i(self, key: str, default: int) -> int:
        return int(self.attr.get(key, {}).get("i", default))

    def b(self, key: str) -> bool:
        return bool(self.attr.get(key, {}).get("b", False))


class _Graph:
    def __init__(self, constants: dict[str, NDArray[Any]]) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, TensorProto] = {}
        self.constants = constants
        self._counter = 0

    def emit(self, op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0].split(":")[0], **attrs))

    def fresh(self, base: str) -> str:
        self._counter += 1
        return f"{base}/cityops_{self._counter}"

    def data(self, tensor: str) -> str:
        """`tensor` as an ONNX input, turning a folded constant into an initializer when first used."""
        if tensor in self.constants and tensor not in self.initializers:
            self.initializers[tensor] = numpy_helper.from_array(np.asarray(self.constants[tensor]), tensor)
        return tensor

    def add_constant(self, base: str, value: NDArray[Any]) -> str:
        name = self.fresh(base)
        self.initializers[name] = numpy_helper.from_array(value, name)
        return name

    def const(self, node: TfNode, index: int, what: str) -> NDArray[Any]:
        tensor = node.inputs[index]
        if tensor not in self.constants:
            raise UnsupportedGraph(f"{node.where()}: {what} ({tensor}) must be a constant")
        return self.constants[tensor]

    def transpose(self, tensor: str, perm: list[int]) -> str:
        out = self.fresh(tensor.split(":")[0])
        self.emit("Transpose", [tensor], [out], perm=perm)
        return out


def output(node: TfNode, index: int = 0) -> str:
    return f"{node.name}:{index}"


# --- ops -------------------------------------------------------------------------------------------


def _spatial_window(node: TfNode, key: str, layout: str) -> list[int]:
    values = node.ints(key) or [1, 1, 1, 1]
    return values[1:3] if layout == "NHWC" else values[2:4]


def _padding(node: TfNode, layout: str) -> dict[str, Any]:
    padding = node.s("padding", "VALID")
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if padding == "SAME":
        return {"auto_pad": "SAME_UPPER"}
    if padding == "EXPLICIT":
        flat = node.ints("explicit_paddings")
        pairs = [flat[i : i + 2] for i in range(0, len(flat), 2)]
        height, width = (pairs[1], pairs[2]) if layout == "NHWC" else (pairs[2], pairs[3])
        return {"pads": [height[0], width[0], height[1], width[1]]}
    raise UnsupportedGraph(f"{node.where()}: padding {padding!r} is not VALID, SAME or EXPLICIT")


def _layout(node: TfNode) -> str:
    layout = node.s("data_format", "NHWC")
    if layout not in ("NHWC", "NCHW"):
        raise UnsupportedGraph(f"{node.where()}: data_format {layout!r} is not NHWC or NCHW")
    return layout


def _in_nchw(
    g: _Graph, node: TfNode, layout: str, build: Callable[[str, str], None], *, result: str | None = None
) -> str:
    """Runs `build(input, output)` (an NCHW op) on `node`'s first input, transposing around it for NHWC."""
    result = result or output(node)
    if layout == "NCHW":
        build(g.data(node.inputs[0]), result)
        return result
    inner = g.fresh(node.name)
    build(g.transpose(g.data(node.inputs[0]), TO_NCHW), inner)
    g.emit("Transpose", [inner], [result], perm=TO_NHWC)
    return result


def convolution(g: _Graph, node: TfNode) -> None:
    layout = _layout(node)
    depthwise = "Depthwise" in node.op
    kernel = g.const(node, 1, "the filter").astype(np.float32)
    if kernel.ndim != 4:
        raise UnsupportedGraph(f"{node.where()}: the filter has shape {kernel.shape}, not 4-D")
    height, width, channels, multiplier = kernel.shape
    if depthwise:
        weights = kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, height, width)
        group = channels
    else:
        weights, group = kernel.transpose(3, 2, 0, 1), 1
    fused = node.strings("fused_ops") if node.op.startswith(("_Fused", "Fused")) else []
    activation = [op for op in fused if op != "BiasAdd"]
    if (fused and fused[0] != "BiasAdd") or len(activation) > 1:
        raise UnsupportedGraph(f"{node.where()}: fused_ops {fused} (only BiasAdd then one activation)")
    inputs = [g.add_constant(node.name + "/weights", np.ascontiguousarray(weights))]
    if fused:
        inputs.append(g.add_constant(node.name + "/bias", g.const(node, 2, "the bias").astype(np.float32)))
    attrs = {
        "kernel_shape": [height, width],
        "strides": _spatial_window(node, "strides", layout),
        "dilations": _spatial_window(node, "dilations", layout),
        "group": group,
        **_padding(node, layout),
    }
    if not activation:
        _in_nchw(g, node, layout, lambda x, y: g.emit("Conv", [x, *inputs], [y], **attrs))
        return
    convolved = _in_nchw(
        g, node, layout, lambda x, y: g.emit("Conv", [x, *inputs], [y], **attrs), result=g.fresh(node.name)
    )
    _activate(g, node, activation[0], convolved, output(node), extra=node.inputs[3:])


def pool(g: _Graph, node: TfNode) -> None:
    layout = _layout(node)
    attrs = {
        "kernel_shape": _spatial_window(node, "ksize", layout),
        "strides": _spatial_window(node, "strides", layout),
        **_padding(node, layout),
    }
    onnx_op = "MaxPool" if node.op == "MaxPool" else "AveragePool"
    _in_nchw(g, node, layout, lambda x, y: g.emit(onnx_op, [x], [y], **attrs))


def pad(g: _Graph, node: TfNode) -> None:
    paddings = g.const(node, 1, "the paddings").astype(np.int64)
    pads = g.add_constant(node.name + "/pads", np.concatenate([paddings[:, 0], paddings[:, 1]]))
    inputs = [g.data(node.inputs[0]), pads]
    if node.op == "PadV2":
        inputs.append(g.data(node.inputs[2]))
    g.emit("Pad", inputs, [output(node)], mode="constant")


def transpose(g: _Graph, node: TfNode) -> None:
    perm = g.const(node, 1, "the permutation").astype(int).tolist()
    g.emit("Transpose", [g.data(node.inputs[0])], [output(node)], perm=perm)


def reshape(g: _Graph, node: TfNode) -> None:
    shape = g.const(node, 1, "the shape").astype(np.int64)
    target = g.add_constant(node.name + "/shape", shape)
    # TF reads a 0 in the shape as an empty dimension, ONNX (by default) as "copy the input's".
    g.emit("Reshape", [g.data(node.inputs[0]), target], [output(node)], allowzero=int(0 in shape))


def concat(g: _Graph, node: TfNode) -> None:
    axis = int(g.const(node, len(node.inputs) - 1, "the axis"))
    g.emit("Concat", [g.data(t) for t in node.inputs[:-1]], [output(node)], axis=axis)


def split(g: _Graph, node: TfNode) -> None:
    count = node.i("num_split", 1)
    outputs = [output(node, k) for k in range(count)]
    if node.op == "Split":
        axis = int(g.const(node, 0, "the axis"))
        g.emit("Split", [g.data(node.inputs[1])], outputs, axis=axis, num_outputs=count)
        return
    sizes = g.const(node, 1, "the split sizes").astype(np.int64)
    if (sizes < 0).any():
        raise UnsupportedGraph(f"{node.where()}: split sizes {sizes.tolist()} with -1 need a known shape")
    axis = int(g.const(node, 2, "the axis"))
    sizes_name = g.add_constant(node.name + "/sizes", sizes)
    g.emit("Split", [g.data(node.inputs[0]), sizes_name], outputs, axis=axis)


def resize_bilinear(g: _Graph, node: TfNode) -> None:
    size = g.const(node, 1, "the size").astype(np.int64)
    if node.b("align_corners"):
        mode = "align_corners"
    elif node.b("half_pixel_centers"):
        mode = "half_pixel"
    else:
        mode = "asymmetric"
    sizes = g.add_constant(node.name + "/sizes", size)
    g.emit(
        "Resize",
        [g.transpose(g.data(node.inputs[0]), TO_NCHW), "", "", sizes],
        [inner := g.fresh(node.name)],
        mode="linear",
        coordinate_transformation_mode=mode,
        axes=[2, 3],
    )
    g.emit("Transpose", [inner], [output(node)], perm=TO_NHWC)


BINARY = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div", "Maximum": "Max"}


def binary(g: _Graph, node: TfNode) -> None:
    left, right = (g.data(t) for t in node.inputs[:2])
    if node.op == "BiasAdd" and _layout(node) == "NCHW":
        bias = g.const(node, 1, "the bias")
        right = g.add_constant(node.name + "/bias", bias.reshape(-1, 1, 1))
    g.emit(BINARY.get(node.op, "Add"), [left, right], [output(node)])


def unary(g: _Graph, node: TfNode) -> None:
    _activate(g, node, node.op, g.data(node.inputs[0]), output(node), extra=node.inputs[1:])


def _activate(
    g: _Graph, node: TfNode, kind: str, tensor: str, result: str, *, extra: tuple[str, ...]
) -> None:
    if kind in ("Relu", "Sigmoid", "Tanh", "Elu", "Identity"):
        g.emit(kind, [tensor], [result])
    elif kind == "Relu6":
        low = g.add_constant(node.name + "/min", np.array(0, np.float32))
        high = g.add_constant(node.name + "/max", np.array(6, np.float32))
        g.emit("Clip", [tensor, low, high], [result])
    elif kind == "LeakyRelu":
        alpha = node.f("leakyrelu_alpha", node.f("alpha", 0.2))
        g.emit("LeakyRelu", [tensor], [result], alpha=alpha)
    elif kind == "Prelu":
        g.emit("PRelu", [tensor, g.data(extra[0])], [result])
    elif kind == "Softmax":
        g.emit("Softmax", [tensor], [result], axis=-1)
    else:
        raise UnsupportedGraph(f"{node.where()}: activation {kind!r} is not supported")


CONVERTERS: Mapping[str, Callable[[_Graph, TfNode], None]] = {
    "Conv2D": convolution,
    "DepthwiseConv2dNative": convolution,
    "_FusedConv2D": convolution,
    "FusedDepthwiseConv2dNative": convolution,
    "MaxPool": pool,
    "AvgPool": pool,
    "Pad": pad,
    "PadV2": pad,
    "Transpose": transpose,
    "Reshape": reshape,
    "ConcatV2": concat,
    "Split": split,
    "SplitV": split,
    "ResizeBilinear": resize_bilinear,
    **dict.fromkeys([*BINARY, "BiasAdd"], binary),
    **dict.fromkeys(["Relu", "Relu6", "LeakyRelu", "Prelu", "Sigmoid", "Tanh", "Elu", "Softmax"], unary),
    "Identity": unary,
}


def _sparse_to_dense(indices: Any, shape: Any, values: Any, default: Any) -> NDArray[Any]:
    dense = np.full(np.asarray(shape).reshape(-1), default)
    if np.asarray(indices).size:
        dense[tuple(np.asarray(indices).reshape(len(np.asarray(values).reshape(-1)), -1).T)] = values
    return dense


# Ops evaluated here when all their inputs are constants (shape arithmetic left in by converters).
FOLDERS: Mapping[str, Callable[..., NDArray[Any]]] = {
    "Identity": lambda x: x,
    "Add": np.add,
    "AddV2": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "SparseToDense": _sparse_to_dense,
    "Reshape": lambda x, shape: np.reshape(x, shape),
    "Transpose": lambda x, perm: np.transpose(x, perm),
    "ConcatV2": lambda *xs: np.concatenate(xs[:-1], int(xs[-1])),
}
STRUCTURAL = {"Const", "Placeholder", "NoOp"}
SUPPORTED_OPS = frozenset({*CONVERTERS, *FOLDERS, *STRUCTURAL})


# --- the graph -------------------------------------------------------------------------------------


def _tensor(reference: str) -> str:
    return reference if ":" in reference else f"{reference}:0"


def parse_nodes(model: Mapping[str, Any]) -> list[TfNode]:
    topology = model.get("modelTopology")
    if not isinstance(topology, dict) or not isinstance(topology.get("node"), list):
        raise UnsupportedGraph(
            "modelTopology.node: missing; is this a TF.js graph model (format graph-model)?"
        )
    if topology.get("library", {}).get("function"):
        raise UnsupportedGraph(
            "modelTopology.library: graphs with functions (control flow) are not supported"
        )
    nodes = []
    for raw in topology["node"]:
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("name"), str)
            or not isinstance(raw.get("op"), str)
        ):
            raise UnsupportedGraph(f"modelTopology.node: every node needs a 'name' and an 'op' ({raw!r:.80})")
        inputs = tuple(_tensor(i) for i in raw.get("input", []) if not i.startswith("^"))
        nodes.append(TfNode(raw["name"], raw["op"], inputs, raw.get("attr", {})))
    unknown: dict[str, list[str]] = {}
    for node in nodes:
        if node.op not in SUPPORTED_OPS:
            unknown.setdefault(node.op, []).append(node.name)
    if unknown:
        listed = "; ".join(f"{op} (e.g. {names[0]!r}, {len(names)} node(s))" for op, names in unknown.items())
        raise UnsupportedGraph(
            f"unsupported TF op(s): {listed}. Supported: {', '.join(sorted(SUPPORTED_OPS))}"
        )
    return nodes


def _ordered(nodes: list[TfNode]) -> list[TfNode]:
    by_name = {node.name: node for node in nodes}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in nodes:
        producers = [t.rsplit(":", 1)[0] for t in node.inputs]
        missing = [p for p in producers if p not in by_name]
        if missing:
            raise UnsupportedGraph(f"{node.where()}: input {missing[0]!r} is not a node of the graph")
        sorter.add(node.name, *producers)
    try:
        return [by_name[name] for name in sorter.static_order()]
    except graphlib.CycleError as exc:
        raise UnsupportedGraph(f"the graph has a cycle through {exc.args[1][:3]}") from exc


def _value_info(name: str, dtype: str, shape: Any) -> onnx.ValueInfoProto:
    dims = [int(d.get("size", -1)) for d in (shape or {}).get("dim", [])] if shape is not None else None
    onnx_dims = None if dims is None else [d if d >= 0 else None for d in dims]
    if dtype not in TF_DTYPES:
        raise UnsupportedGraph(f"tensor {name!r}: dtype {dtype} is not supported ({', '.join(TF_DTYPES)})")
    return helper.make_tensor_value_info(name, TF_DTYPES[dtype], onnx_dims)


def convert(model: Mapping[str, Any], weights: Mapping[str, NDArray[Any]]) -> onnx.ModelProto:
    """The ONNX model of a TF.js graph model (the parsed `model.json` and its decoded weights)."""
    nodes = _ordered(parse_nodes(model))
    g = _Graph({})
    inputs = []
    for node in nodes:
        if node.op == "Const":
            if node.name not in weights:
                raise UnsupportedGraph(f"{node.where()}: no weight of that name in the weights manifest")
            g.constants[output(node)] = weights[node.name]
        elif node.op == "Placeholder":
            dtype = node.attr.get("dtype", {}).get("type", "DT_FLOAT")
            inputs.append(_value_info(output(node), dtype, node.attr.get("shape", {}).get("shape")))
        elif node.op in FOLDERS and all(t in g.constants for t in node.inputs):
            g.constants[output(node)] = np.asarray(FOLDERS[node.op](*(g.constants[t] for t in node.inputs)))
        elif node.op in CONVERTERS:
            CONVERTERS[node.op](g, node)
        elif node.op != "NoOp":
            raise UnsupportedGraph(f"{node.where()}: supported only with constant inputs")
    outputs = _outputs(model, nodes)
    graph = helper.make_graph(g.nodes, "tfjs", inputs, outputs, list(g.initializers.values()))
    converted = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cityops.tfjs_onnx"
    )
    converted.ir_version = IR_VERSION
    simplified = simplify(converted)
    # Outputs the signature gives no shape for get the one ONNX infers (the checker wants one).
    try:
        inferred = onnx.shape_inference.infer_shapes(simplified, strict_mode=True)
        del simplified.graph.output[:]
        simplified.graph.output.extend(inferred.graph.output)
        onnx.checker.check_model(simplified)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        raise UnsupportedGraph(f"the converted graph does not hold together: {exc}") from exc
    return simplified


def _outputs(model: Mapping[str, Any], nodes: list[TfNode]) -> list[onnx.ValueInfoProto]:
    signature = model.get("signature", {}).get("outputs") or {}
    if signature:
        return [
            _value_info(
                _tensor(spec.get("name", key)), spec.get("dtype", "DT_FLOAT"), spec.get("tensorShape")
            )
            for key, spec in signature.items()
        ]
    consumed = {t.rsplit(":", 1)[0] for node in nodes for t in node.inputs}
    ends = [n for n in nodes if n.name not in consumed and n.op not in STRUCTURAL]
    return [helper.make_tensor_value_info(output(n), TensorProto.FLOAT, None) for n in ends]
