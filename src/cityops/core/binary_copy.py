"""PostgreSQL's binary `COPY` format built from numpy columns in one pass, for the bulk write paths:
psycopg's `write_row` costs about a microsecond a row in Python, this a few nanoseconds.

Only fixed-width fields: 32/64-bit integers, doubles and one-byte text, never NULL."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

# COPY field type -> big-endian numpy type; "char1" is a text column whose values are one byte.
_FIELD_TYPES = {"int4": ">i4", "int8": ">i8", "float8": ">f8", "char1": "S1"}
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)


def encode_binary_copy(columns: Sequence[tuple[str, ArrayLike]]) -> bytes:
    """The whole `COPY … FROM STDIN (FORMAT BINARY)` stream of these columns (equal lengths), each
    given as (field type, values)."""
    arrays = [np.asarray(values) for _, values in columns]
    rows = len(arrays[0]) if arrays else 0
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, (kind, _) in enumerate(columns):
        fields += [(f"size{i}", ">i4"), (f"value{i}", _FIELD_TYPES[kind])]
    packed = np.empty(rows, dtype=np.dtype(fields))
    packed["count"] = len(columns)
    for i, ((kind, _), values) in enumerate(zip(columns, arrays, strict=True)):
        if len(values) != rows:
            raise ValueError(f"column {i} has {len(values)} values, column 0 has {rows}")
        packed[f"size{i}"] = np.dtype(_FIELD_TYPES[kind]).itemsize
        packed[f"value{i}"] = values
    return _HEADER + packed.tobytes() + _TRAILER
