"""Time series of one entity's metrics from the rollups, for charts (per-camera flow, hotspot users)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request

from cityops.api.auth import Reader
from cityops.api.state import kernel_of
from cityops.core.kernel import Kernel
from cityops.core.observations import read_rollups
from cityops.core.schema import GRAIN_MS
from cityops.core.text_limits import Key

router = APIRouter(tags=["map"])

# A chart never needs more than this many buckets per metric; bigger windows are refused, not truncated.
MAX_BUCKETS = 2_000
MAX_METRICS = 20


def read_series(
    kernel: Kernel, urn: str, metrics: list[str], grain: str, start_ms: int | None, end_ms: int | None
) -> dict[str, Any]:
    ref = kernel.registry.resolve(urn)
    if ref is None:
        raise HTTPException(404, detail={"field": "entity", "message": f"no entity {urn!r}"})
    end = end_ms if end_ms is not None else kernel.now_ms() + GRAIN_MS[grain]
    start = start_ms if start_ms is not None else end - 60 * GRAIN_MS[grain]
    if start >= end:
        raise HTTPException(422, detail={"field": "start", "message": "start must be before end"})
    if (end - start) // GRAIN_MS[grain] > MAX_BUCKETS:
        raise HTTPException(
            422, detail={"field": "start", "message": f"at most {MAX_BUCKETS} {grain} buckets per request"}
        )
    ids: dict[str, int] = {}
    for metric in metrics:
        metric_id = kernel.registry.metric_id(ref.type, metric)
        if metric_id is None:
            raise HTTPException(
                422, detail={"field": "metric", "message": f"{ref.type} has no metric {metric!r}"}
            )
        ids[metric] = metric_id
    with kernel.engine.connect() as conn:
        series = {
            metric: [
                {
                    "ts": row.bucket_ms,
                    "count": row.count,
                    "mean": row.mean,
                    "sum": row.sum,
                    "min": row.min,
                    "max": row.max,
                    "last": row.last,
                }
                for row in read_rollups(conn, ref.id, metric_id, grain, start, end)
            ]
            for metric, metric_id in ids.items()
        }
    return {"entity": urn, "type": ref.type, "grain": grain, "start": start, "end": end, "series": series}


@router.get("/api/series", summary="Rolled-up values of one entity's metrics (minute, hour or Vietnam day)")
async def get_series(
    request: Request,
    principal: Reader,
    entity: Annotated[str, Query(max_length=200, description="the entity's URN")],
    metric: Annotated[list[Key], Query(min_length=1, max_length=MAX_METRICS)],
    grain: Literal["m", "h", "d"] = "m",
    start: Annotated[int | None, Query(ge=0, description="epoch ms, inclusive")] = None,
    end: Annotated[int | None, Query(ge=0, description="epoch ms, exclusive")] = None,
) -> dict[str, Any]:
    kernel = kernel_of(request)
    return await anyio.to_thread.run_sync(read_series, kernel, entity, metric, grain, start, end)
