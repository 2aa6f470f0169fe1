"""The temporal API (ETSI GS CIM 009 clause 5.7.3-5.7.4): `/ngsi-ld/v1/temporal/entities` and
`/temporal/entities/{id}`, answered from the observation store — raw points for instances (`timerel`,
`lastN`), the minute/hour/day rollups for aggregation (`aggrMethods`, `aggrPeriodDuration`).

Only the metrics have a history in cityops; an entity's other attributes are not part of the temporal
representation (docs/ngsild.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Connection, select

from cityops.api.ngsild.context import Context
from cityops.api.ngsild.entities import DEFAULT_LIMIT, writer_of
from cityops.api.ngsild.errors import NgsiError, NgsiRoute, bad_data
from cityops.api.ngsild.exchange import CallerDep, context_of, respond
from cityops.api.ngsild.finding import FiltersDep, find, split_list
from cityops.api.ngsild.representation import StoredEntity, iso, parse_time
from cityops.api.ngsild.writing import existing
from cityops.api.state import kernel_of
from cityops.core.kernel import Kernel
from cityops.core.observations import read_rollups
from cityops.core.schema import GRAIN_MS, VIETNAM_OFFSET_MS, observations
from cityops.core.text_limits import Uri

router = APIRouter(route_class=NgsiRoute, tags=["NGSI-LD"])
MAX_INSTANCES = 10_000  # per attribute and request
MAX_ENTITIES = 100  # per page of /temporal/entities
METHODS = ("totalCount", "sum", "avg", "min", "max")
NOT_KEPT = ("distinctCount", "stddev", "sumsq")
DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
END_OF_TIME = 2**62


@dataclass(frozen=True, slots=True)
class Window:
    start_ms: int  # inclusive
    end_ms: int  # exclusive


@dataclass(frozen=True, slots=True)
class Aggregation:
    methods: tuple[str, ...]
    period_ms: int | None  # None: the whole window is one period
    grain: str


def window_of(timerel: str | None, time_at: str | None, end_time_at: str | None) -> Window:
    if timerel is None:
        if time_at is not None or end_time_at is not None:
            raise bad_data("timeAt and endTimeAt need timerel")
        return Window(0, END_OF_TIME)
    if timerel not in ("before", "after", "between"):
        raise bad_data("timerel: before, after or between")
    if time_at is None:
        raise bad_data(f"timeAt: required with timerel={timerel}")
    at = parse_time(time_at, "timeAt")
    if timerel == "before":
        return Window(0, at)
    if timerel == "after":
        return Window(at + 1, END_OF_TIME)
    if end_time_at is None:
        raise bad_data("endTimeAt: required with timerel=between")
    end = parse_time(end_time_at, "endTimeAt")
    if end <= at:
        raise bad_data("endTimeAt: must be after timeAt")
    return Window(at, end)


def duration_ms(text: str) -> int:
    match = DURATION.match(text)
    if match is None or text in ("P", "PT"):
        if re.match(r"^P(\d+Y)?(\d+M)?", text) and ("Y" in text.split("T")[0] or "M" in text.split("T")[0]):
            raise NgsiError(
                "OperationNotSupported", "aggrPeriodDuration: years and months have no fixed length"
            )
        raise bad_data(f"aggrPeriodDuration: {text!r} is not an ISO 8601 duration such as PT1H or P1D")
    weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000


def aggregation_of(methods: str | None, period: str | None) -> Aggregation:
    if methods is None:
        raise bad_data("aggrMethods: required with options=aggregatedValues")
    chosen = tuple(dict.fromkeys(m.strip() for m in methods.split(",") if m.strip()))
    unkept = [m for m in chosen if m in NOT_KEPT]
    if unkept:
        raise NgsiError("OperationNotSupported", f"aggrMethods: the rollups do not keep {unkept}")
    unknown = [m for m in chosen if m not in METHODS]
    if unknown or not chosen:
        raise bad_data(f"aggrMethods: choose among {list(METHODS)}")
    ms = duration_ms(period) if period else 0
    if ms == 0:
        return Aggregation(chosen, None, "m")
    grain = next((g for g in ("d", "h", "m") if ms % GRAIN_MS[g] == 0), None)
    if grain is None:
        raise bad_data("aggrPeriodDuration: the store rolls up by minute, hour and day; use whole minutes")
    return Aggregation(chosen, ms, grain)


def instances(
    conn: Connection, entity_id: int, metric_id: int, window: Window, last_n: int | None
) -> list[Any]:
    t = observations.c
    query = select(t.ts_ms, t.value).where(
        t.entity_id == entity_id,
        t.metric_id == metric_id,
        t.ts_ms >= window.start_ms,
        t.ts_ms < window.end_ms,
    )
    if last_n is not None:
        rows = conn.execute(query.order_by(t.ts_ms.desc()).limit(min(last_n, MAX_INSTANCES))).all()
        return list(rows[::-1])
    rows = conn.execute(query.order_by(t.ts_ms).limit(MAX_INSTANCES + 1)).all()
    if len(rows) > MAX_INSTANCES:
        raise NgsiError(
            "TooManyResults",
            f"more than {MAX_INSTANCES} instances in the window; narrow timerel, or use lastN or aggregation",
        )
    return list(rows)


def aggregated(
    conn: Connection, entity_id: int, metric_id: int, window: Window, aggregation: Aggregation
) -> dict[str, list[list[Any]]]:
    """`method -> [[value, startAt, endAt], ...]` from the rollups whose bucket starts in the window."""
    rows = read_rollups(conn, entity_id, metric_id, aggregation.grain, window.start_ms, window.end_ms)
    periods: dict[int, list[float]] = {}  # start -> [count, sum, min, max]
    size = aggregation.period_ms
    offset = VIETNAM_OFFSET_MS if aggregation.grain == "d" else 0
    for row in rows:
        start = 0 if size is None else row.bucket_ms - (row.bucket_ms + offset) % size
        acc = periods.get(start)
        if acc is None:
            periods[start] = [row.count, row.sum, row.min, row.max]
            if len(periods) > MAX_INSTANCES:
                raise NgsiError("TooManyResults", f"more than {MAX_INSTANCES} periods; use a longer period")
        else:
            acc[0] += row.count
            acc[1] += row.sum
            acc[2] = min(acc[2], row.min)
            acc[3] = max(acc[3], row.max)
    out: dict[str, list[list[Any]]] = {method: [] for method in aggregation.methods}
    for start, (count, total, low, high) in sorted(periods.items()):
        if size is None:
            begin, end = (rows[0].bucket_ms if window.start_ms == 0 else window.start_ms), window.end_ms
            end = min(end, rows[-1].bucket_ms + GRAIN_MS[aggregation.grain])
        else:
            begin, end = start, start + size
        values = {"totalCount": int(count), "sum": total, "avg": total / count, "min": low, "max": high}
        for method in aggregation.methods:
            out[method].append([values[method], iso(begin), iso(end)])
    return out


@dataclass(frozen=True, slots=True)
class Temporal:
    window: Window
    last_n: int | None
    form: str  # normalized, temporalValues or aggregatedValues
    aggregation: Aggregation | None
    attrs: frozenset[str] | None


def temporal_entity(
    kernel: Kernel, entity: StoredEntity, request: Temporal, context: Context
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": entity.urn, "type": context.term_for(entity.type)}
    known = kernel.registry.types.get(entity.type)
    names = [spec.name for spec in known.metrics] if known else []
    with kernel.engine.connect() as conn:
        for name in names:
            if request.attrs is not None and name not in request.attrs:
                continue
            metric_id = kernel.registry.metric_id(entity.type, name)
            assert metric_id is not None
            term = context.term_for(name)
            if request.aggregation is not None:
                series = aggregated(conn, entity.id, metric_id, request.window, request.aggregation)
                if any(series.values()):
                    body[term] = {"type": "Property", **series}
                continue
            rows = instances(conn, entity.id, metric_id, request.window, request.last_n)
            if not rows:
                continue
            if request.form == "temporalValues":
                body[term] = {"type": "Property", "values": [[value, iso(ts)] for ts, value in rows]}
            else:
                body[term] = [
                    {"type": "Property", "value": value, "observedAt": iso(ts)} for ts, value in rows
                ]
    return body


Text = Annotated[str | None, Query(max_length=100)]
LastN = Annotated[int | None, Query(alias="lastN", ge=1, le=MAX_INSTANCES)]


@dataclass(frozen=True, slots=True)
class TemporalParams:
    """The temporal query parameters, as given."""

    timerel: str | None
    time_at: str | None
    end_time_at: str | None
    timeproperty: str | None
    last_n: int | None
    options: str | None
    aggr_methods: str | None
    aggr_period: str | None

    def parse(self, context: Context, attrs: str | None) -> Temporal:
        if self.timeproperty not in (None, "observedAt"):
            raise NgsiError(
                "OperationNotSupported", "timeproperty: cityops keeps the history by observedAt only"
            )
        chosen = {o.strip() for o in (self.options or "").split(",") if o.strip()}
        unknown = chosen - {"temporalValues", "aggregatedValues", "normalized"}
        if unknown:
            raise bad_data(f"options: unknown {sorted(unknown)}")
        if {"temporalValues", "aggregatedValues"} <= chosen:
            raise bad_data("options: temporalValues and aggregatedValues exclude each other")
        form = (
            "aggregatedValues"
            if "aggregatedValues" in chosen
            else ("temporalValues" if "temporalValues" in chosen else "normalized")
        )
        aggregation = (
            aggregation_of(self.aggr_methods, self.aggr_period) if form == "aggregatedValues" else None
        )
        names = split_list(attrs, "attrs")
        return Temporal(
            window_of(self.timerel, self.time_at, self.end_time_at),
            self.last_n,
            form,
            aggregation,
            None if names is None else frozenset(context.stored_name(n) for n in names),
        )


def temporal_params(
    timerel: Text = None,
    timeAt: Text = None,
    endTimeAt: Text = None,
    timeproperty: Text = None,
    last_n: LastN = None,
    options: Text = None,
    aggrMethods: Text = None,
    aggrPeriodDuration: Text = None,
) -> TemporalParams:
    return TemporalParams(
        timerel, timeAt, endTimeAt, timeproperty, last_n, options, aggrMethods, aggrPeriodDuration
    )


TemporalDep = Annotated[TemporalParams, Depends(temporal_params)]


@router.get("/ngsi-ld/v1/temporal/entities/{entity_id}", summary="Retrieve an entity's history")
async def retrieve_temporal(
    request: Request,
    caller: CallerDep,
    entity_id: Uri,
    params: TemporalDep,
    attrs: Annotated[str | None, Query(max_length=4000)] = None,
) -> Response:
    context = context_of(request)
    wanted = params.parse(context, attrs)
    entity = await existing(writer_of(request, caller, context), entity_id)
    body = await anyio.to_thread.run_sync(temporal_entity, kernel_of(request), entity, wanted, context)
    return respond(request, body, context)


@router.get("/ngsi-ld/v1/temporal/entities", summary="Query entities' history")
async def query_temporal(
    request: Request,
    caller: CallerDep,
    filters: FiltersDep,
    params: TemporalDep,
    limit: Annotated[int, Query(ge=0, le=MAX_ENTITIES)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
    count: bool = False,
) -> Response:
    context = context_of(request)
    wanted = params.parse(context, filters.attrs)
    selection = filters.selection(context, caller.areas)
    kernel = kernel_of(request)

    def answer() -> tuple[list[dict[str, Any]], int]:
        page, total = find(kernel, selection, offset, limit)
        return [temporal_entity(kernel, entity, wanted, context) for entity in page], total

    body, total = await anyio.to_thread.run_sync(answer)
    headers = {"NGSILD-Results-Count": str(total)} if count else None
    return respond(request, body, context, headers=headers)
