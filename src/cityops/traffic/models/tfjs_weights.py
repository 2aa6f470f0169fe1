"""The binary weights of a TensorFlow.js graph model, decoded from its `weightsManifest`.

The manifest is a list of groups; each group's shard files (`paths`), concatenated, hold its weights one
after the other in manifest order. A weight may be stored quantized: `float16`, or `uint8`/`uint16`
with an affine `scale` and `min` (value = stored * scale + min).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

STORED_DTYPES: Mapping[str, np.dtype[Any]] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("?"),
    "float16": np.dtype("<f2"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
}
OUTPUT_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}


class WeightsError(ValueError):
    pass


def decode_weights(manifest: object, read_shard: Callable[[str], bytes]) -> dict[str, NDArray[Any]]:
    """Every weight of `manifest` by name; `read_shard(path)` returns the bytes of one shard file."""
    if not isinstance(manifest, list):
        raise WeightsError("weightsManifest: expected a list of weight groups")
    weights: dict[str, NDArray[Any]] = {}
    for number, group in enumerate(manifest):
        where = f"weightsManifest[{number}]"
        if not isinstance(group, dict) or not isinstance(group.get("paths"), list):
            raise WeightsError(f"{where}: expected an object with 'paths' and 'weights'")
        buffer = b"".join(read_shard(_shard_name(path, where)) for path in group["paths"])
        offset = 0
        for entry in group.get("weights", []):
            name, array, size = _decode_one(entry, buffer, offset, where)
            weights[name] = array
            offset += size
        if offset != len(buffer):
            raise WeightsError(f"{where}: the shards hold {len(buffer)} bytes, the weights need {offset}")
    return weights


def _shard_name(path: object, where: str) -> str:
    if not isinstance(path, str) or not path or "/" in path or "\\" in path or path.startswith("."):
        raise WeightsError(f"{where}.paths: {path!r} is not a plain file name beside the model")
    return path


def _decode_one(entry: object, buffer: bytes, offset: int, where: str) -> tuple[str, NDArray[Any], int]:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise WeightsError(f"{where}.weights: every weight needs a 'name'")
    name = entry["name"]
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise WeightsError(f"weight {name!r}: shape {shape!r} is not a list of sizes")
    dtype = entry.get("dtype")
    if dtype not in OUTPUT_DTYPES:
        raise WeightsError(
            f"weight {name!r}: dtype {dtype!r} is not supported (one of {sorted(OUTPUT_DTYPES)})"
        )
    quantization = entry.get("quantization") or {}
    stored = str(quantization.get("dtype", dtype))
    if stored not in STORED_DTYPES:
        raise WeightsError(f"weight {name!r}: quantization dtype {stored!r} is not supported")
    count = int(np.prod(shape, dtype=np.int64))
    size = count * STORED_DTYPES[stored].itemsize
    if offset + size > len(buffer):
        raise WeightsError(f"weight {name!r}: the weight files end before it ({len(buffer)} bytes)")
    raw = np.frombuffer(buffer, STORED_DTYPES[stored], count, offset).reshape(shape)
    if stored in ("uint8", "uint16"):
        scale, low = quantization.get("scale"), quantization.get("min")
        if not isinstance(scale, int | float) or not isinstance(low, int | float):
            raise WeightsError(f"weight {name!r}: {stored} quantization needs numeric 'scale' and 'min'")
        values = raw.astype(np.float64) * scale + low
        if dtype == "int32":
            values = np.round(values)
        return name, values.astype(OUTPUT_DTYPES[dtype]), size
    return name, raw.astype(OUTPUT_DTYPES[dtype]), size
