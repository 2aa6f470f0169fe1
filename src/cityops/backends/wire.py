"""What travels on NATS: events as JSON (the dict `Event.to_dict` gives, with the class name in a
header), ingestion batches as a small JSON head plus the four point columns as little-endian arrays.

A batch of 200,000 points is 6.4 MB of columns, inside the 8 MiB message limit the servers are run with
(`MAX_PAYLOAD`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from pydantic import TypeAdapter

from cityops.core.entities import EntityRef
from cityops.core.events import Event
from cityops.core.ingest import PointBatch

MAX_PAYLOAD = 8 * 1024 * 1024
EVENT_TYPE_HEADER = "Cityops-Event"
_INT64 = np.dtype("<i8")
_FLOAT64 = np.dtype("<f8")


class WireError(ValueError):
    """A message this version cannot read (an unknown event type, a truncated batch)."""


def _event_class(type_name: str) -> type[Event] | None:
    module_name, _, name = type_name.partition(":")
    module = sys.modules.get(module_name)
    found = getattr(module, name, None) if module is not None and name.isidentifier() else None
    return found if isinstance(found, type) and issubclass(found, Event) else None


_ADAPTERS: dict[str, TypeAdapter[Event]] = {}


def event_type(event: Event) -> str:
    cls = type(event)
    return f"{cls.__module__}:{cls.__qualname__}"


def encode_event(event: Event) -> bytes:
    return orjson.dumps(event.to_dict())


def decode_event(type_name: str, payload: bytes) -> Event:
    """Only classes already imported in this process (the kernel's and the loaded domains' events) are
    decoded: a message never makes this process import a module."""
    cls = _event_class(type_name)
    if cls is None:
        raise WireError(f"unknown event type {type_name!r}")
    adapter = _ADAPTERS.get(type_name)
    if adapter is None:
        adapter = _ADAPTERS[type_name] = TypeAdapter(cls)
    return adapter.validate_python(orjson.loads(payload))


@dataclass(frozen=True, slots=True)
class QueuedBatch:
    batch_id: int
    source: str
    batch: PointBatch


def encode_batch(batch_id: int, source: str, batch: PointBatch) -> bytes:
    head = {
        "batch_id": batch_id,
        "source": source,
        "points": len(batch),
        "entities": [[r.id, r.urn, r.type, r.name] for r in batch.entities.values()],
    }
    columns = (
        np.asarray(batch.entity_ids, dtype=_INT64).tobytes()
        + np.asarray(batch.metric_ids, dtype=_INT64).tobytes()
        + np.asarray(batch.ts_ms, dtype=_INT64).tobytes()
        + np.asarray(batch.values, dtype=_FLOAT64).tobytes()
    )
    return orjson.dumps(head) + b"\n" + columns


def decode_batch(payload: bytes) -> QueuedBatch:
    head_end = payload.find(b"\n")
    if head_end < 0:
        raise WireError("batch without a head")
    head: dict[str, Any] = orjson.loads(payload[:head_end])
    count = int(head["points"])
    body = memoryview(payload)[head_end + 1 :]
    if len(body) != 32 * count:
        raise WireError(f"batch of {count} points carries {len(body)} bytes of columns")
    step = 8 * count
    batch = PointBatch(
        entity_ids=np.frombuffer(body[:step], dtype=_INT64).tolist(),
        metric_ids=np.frombuffer(body[step : 2 * step], dtype=_INT64).tolist(),
        ts_ms=np.frombuffer(body[2 * step : 3 * step], dtype=_INT64).tolist(),
        values=np.frombuffer(body[3 * step :], dtype=_FLOAT64).tolist(),
        entities={int(i): EntityRef(int(i), urn, kind, name) for i, urn, kind, name in head["entities"]},
    )
    return QueuedBatch(int(head["batch_id"]), str(head["source"]), batch)
