"""`/api/opendata`: the city's open data for anyone, without signing in — a DCAT-AP catalogue and each
dataset as CSV, GeoJSON or Parquet, every row through the personal-data filter (`core.opendata`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import anyio.to_thread
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, HTTPException, Path, Request, Response

from cityops.api.state import kernel_of, settings_of
from cityops.core.kernel import Kernel
from cityops.core.opendata import VIETNAM, Column, Dataset, Period, catalogue, public_rows
from cityops.core.opendata_kernel import kernel_datasets

router = APIRouter(prefix="/api/opendata", tags=["open data"])

MAX_DAYS = 366  # one download covers at most a year; a longer history is several downloads
MAX_ROWS = 500_000  # beyond that a download is refused (413), never cut short
Format = Literal["csv", "geojson", "parquet"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "parquet": "application/vnd.apache.parquet",
}
_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "datetime": pa.timestamp("ms", tz="+07:00"),
    "date": pa.date32(),
}


def published(kernel: Kernel) -> dict[str, Dataset]:
    datasets = kernel_datasets(kernel.registry.types.values())
    datasets += [dataset for domain in kernel.domains for dataset in domain.datasets]
    return {dataset.id: dataset for dataset in datasets}


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


@router.get("/catalog", summary="DCAT-AP catalogue of the published datasets (JSON-LD)")
async def get_catalog(request: Request, lang: Literal["vi", "en", "ja"] = "vi") -> Response:
    kernel = kernel_of(request)
    settings = settings_of(request)
    document = catalogue(
        published(kernel).values(),
        _base_url(request),
        {"vi": settings.publisher, "en": settings.publisher, "ja": settings.publisher},
        lang,
        datetime.now(UTC).astimezone(VIETNAM),
        kernel.simulated,
    )
    return Response(orjson.dumps(document), media_type="application/ld+json")


def _period(dataset: Dataset, since: date | None, until: date | None) -> Period:
    end = until or datetime.now(VIETNAM).date()
    start = since or end - timedelta(days=dataset.window_days - 1)
    if start > end:
        raise HTTPException(422, detail={"field": "since", "message": "since must not be after until"})
    if (end - start).days + 1 > MAX_DAYS:
        raise HTTPException(
            422, detail={"field": "since", "message": f"one download covers at most {MAX_DAYS} days"}
        )
    return Period(start, end)


def _collect(kernel: Kernel, dataset: Dataset, period: Period) -> list[dict[str, Any]]:
    with kernel.engine.connect() as conn:
        rows = []
        for row in public_rows(dataset, conn, period):
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise HTTPException(
                    413,
                    detail={
                        "field": "since",
                        "message": f"more than {MAX_ROWS} rows: download a shorter period (since, until)",
                    },
                )
    return rows


def _text(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.type == "datetime":
        return str(value.astimezone(VIETNAM).isoformat(timespec="seconds"))
    if column.type == "date":
        return str(value.isoformat())
    return str(value)


def as_csv(dataset: Dataset, rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in dataset.columns])
    for row in rows:
        writer.writerow([_text(c, row[c.name]) for c in dataset.columns])
    return out.getvalue().encode("utf-8")


def as_geojson(dataset: Dataset, rows: list[dict[str, Any]]) -> bytes:
    columns = [c for c in dataset.columns if c.name not in ("lon", "lat")]

    def features() -> Iterator[dict[str, Any]]:
        for row in rows:
            lon, lat = row["lon"], row["lat"]
            yield {
                "type": "Feature",
                "geometry": None
                if lon is None or lat is None
                else {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    c.name: _text(c, row[c.name]) if c.type in ("datetime", "date") else row[c.name]
                    for c in columns
                },
            }

    return orjson.dumps({"type": "FeatureCollection", "features": list(features())})


def as_parquet(dataset: Dataset, rows: list[dict[str, Any]]) -> bytes:
    schema = pa.schema([pa.field(c.name, _ARROW_TYPES[c.type]) for c in dataset.columns])
    table = pa.Table.from_pylist(rows, schema=schema)
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


@router.get("/datasets/{dataset_id}.{format}", summary="One dataset as CSV, GeoJSON or Parquet")
async def get_dataset(
    request: Request,
    dataset_id: Annotated[str, Path(max_length=80)],
    format: Format,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    kernel = kernel_of(request)
    dataset = published(kernel).get(dataset_id)
    if dataset is None:
        raise HTTPException(404, detail={"field": "dataset_id", "message": f"no dataset {dataset_id!r}"})
    if format == "geojson" and not dataset.geometry:
        raise HTTPException(
            404,
            detail={"field": "format", "message": f"dataset {dataset_id!r} has no positions: csv, parquet"},
        )
    period = _period(dataset, since, until)
    rows = await anyio.to_thread.run_sync(_collect, kernel, dataset, period)
    writer = {"csv": as_csv, "geojson": as_geojson, "parquet": as_parquet}[format]
    body = await anyio.to_thread.run_sync(writer, dataset, rows)
    name = f"{dataset.id}_{period.start.isoformat()}_{period.end.isoformat()}.{format}"
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
