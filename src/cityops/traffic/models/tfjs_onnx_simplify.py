"""Removes the layout round trips a TF → ONNX conversion leaves.

TF adds a convolution's bias after the convolution, in NHWC; converted, that reads
`Conv → Transpose(to NHWC) → Add(bias) → Transpose(to NCHW)`. The bias goes into the `Conv`, then
transposes that undo each other go, and so do the nodes nothing needs any more.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _perm(node: onnx.NodeProto) -> list[int]:
    return list(next(a for a in node.attribute if a.name == "perm").ints)


def simplify(model: onnx.ModelProto) -> onnx.ModelProto:
    _fold_biases(model)
    _cancel_transposes(model)
    return _without_dead_nodes(model)


def _fold_biases(model: onnx.ModelProto) -> None:
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, int] = defaultdict(int)
    for node in graph.node:
        for name in node.input:
            consumers[name] += 1
    outputs = {o.name for o in graph.output}
    renamed: dict[str, str] = {}
    for node in graph.node:
        node.input[:] = [renamed.get(i, i) for i in node.input]
        if node.op_type != "Add" or node.input[1] not in initializers or node.output[0] in outputs:
            continue
        moved = producer.get(node.input[0])
        conv = producer.get(moved.input[0]) if moved is not None and moved.op_type == "Transpose" else None
        if moved is None or conv is None or conv.op_type != "Conv" or consumers[moved.output[0]] != 1:
            continue
        if consumers[conv.output[0]] != 1 or _perm(moved) != [0, 2, 3, 1]:
            continue
        bias = numpy_helper.to_array(initializers[node.input[1]])
        weights = numpy_helper.to_array(initializers[conv.input[1]])
        if bias.shape != (weights.shape[0],):
            continue
        if len(conv.input) > 2:
            bias = bias + numpy_helper.to_array(initializers[conv.input[2]])
        name = f"{conv.name}/folded_bias"
        graph.initializer.append(numpy_helper.from_array(bias.astype(np.float32), name))
        initializers[name] = graph.initializer[-1]
        conv.input[2:] = [name]
        renamed[node.output[0]] = moved.output[0]


def _cancel_transposes(model: onnx.ModelProto) -> None:
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    outputs = {o.name for o in graph.output}
    renamed: dict[str, str] = {}
    for node in graph.node:
        node.input[:] = [renamed.get(i, i) for i in node.input]
        if node.op_type != "Transpose" or node.output[0] in outputs:
            continue
        inner = producer.get(node.input[0])
        if inner is None or inner.op_type != "Transpose":
            continue
        first, second = _perm(inner), _perm(node)
        if [first[i] for i in second] == list(range(len(first))):
            renamed[node.output[0]] = inner.input[0]


def _without_dead_nodes(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    initializers = [t for t in graph.initializer if t.name in needed]
    new_graph = helper.make_graph(
        list(reversed(kept)), graph.name, list(graph.input), list(graph.output), initializers
    )
    simplified = helper.make_model(new_graph, opset_imports=list(model.opset_import))
    simplified.ir_version = model.ir_version
    simplified.producer_name = model.producer_name
    return simplified
