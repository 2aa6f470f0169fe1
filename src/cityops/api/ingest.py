"""Batch ingestion: `POST /api/ingest` with JSON or NDJSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cityops.api.auth import Ingestor
from cityops.api.state import kernel_of, settings_of
from cityops.core.bus import QueueUnavailable
from cityops.core.ingest import FieldError, IngestError, parse_json, parse_ndjson, validate_points

router = APIRouter(tags=["ingestion"])

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def _error(status: int, errors: list[FieldError]) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": [e.to_dict() for e in errors]})


async def read_limited_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is larger than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/api/ingest",
    status_code=202,
    summary="Store a batch of data points (JSON or NDJSON)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "points": [
                            {
                                "entity": "urn:ngsi-ld:Camera:tdm-001",
                                "metric": "intensity",
                                "time": "2026-11-23T08:00:00+07:00",
                                "value": 42,
                            }
                        ]
                    }
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            }
        }
    },
)
async def ingest(request: Request, principal: Ingestor) -> Any:
    kernel = kernel_of(request)
    settings = settings_of(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("application/json", *NDJSON_TYPES):
        return _error(415, [FieldError(None, "content-type", "use application/json or application/x-ndjson")])
    body = await read_limited_body(request, settings.max_body_bytes)
    if body is None:
        message = f"the body is larger than the limit of {settings.max_body_bytes} bytes"
        return _error(413, [FieldError(None, "body", message)])
    try:
        if media_type == "application/json":
            raw, lines = parse_json(body), None
        else:
            raw, lines = parse_ndjson(body)
        batch = validate_points(raw, kernel.registry, kernel.now_ms(), settings.max_batch_points, lines)
    except IngestError as exc:
        return _error(422, exc.errors)
    try:
        accepted = await kernel.accept(batch, source=f"http:{principal.actor}"[:64])
    except QueueUnavailable as exc:
        response = _error(503, [FieldError(None, "body", f"not stored, send it again: {exc}")])
        response.headers["Retry-After"] = "1"
        return response
    if accepted.queued:  # held by the cluster's queue; a recorder counts the duplicates when it stores it
        return {"batch_id": accepted.batch_id, "points": accepted.points, "duplicates": None, "queued": True}
    return {"batch_id": accepted.batch_id, "points": accepted.points, "duplicates": accepted.duplicates}
