"""NGSI-LD context information: `/ngsi-ld/v1/entities` (ETSI GS CIM 009 clauses 5.6 and 5.7)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Query, Request, Response

from cityops.api.ngsild.context import Context, core_document
from cityops.api.ngsild.errors import NgsiRoute, bad_data, not_found
from cityops.api.ngsild.exchange import JSON_LD, CallerDep, context_of, read_json, respond
from cityops.api.ngsild.finding import FiltersDep, split_list
from cityops.api.ngsild.representation import render
from cityops.api.ngsild.views import find_with_views, view_entity, view_type_of
from cityops.api.ngsild.writing import (
    Outcome,
    Writer,
    create,
    delete_attribute,
    delete_entity,
    existing,
    flush,
    replace_entity,
    update_attributes,
)
from cityops.api.state import kernel_of, settings_of
from cityops.core.text_limits import Uri

router = APIRouter(route_class=NgsiRoute, tags=["NGSI-LD"])
MAX_LIMIT = 1000
DEFAULT_LIMIT = 20
FORMS = ("normalized", "keyValues", "concise")
Options = Annotated[str | None, Query(max_length=200, description="keyValues, concise, normalized, sysAttrs")]


def writer_of(request: Request, caller: CallerDep, context: Context) -> Writer:
    return Writer(kernel_of(request), caller, context, settings_of(request).max_batch_points)


def form_of(options: str | None) -> tuple[str, bool]:
    chosen = [o.strip() for o in (options or "").split(",") if o.strip()]
    unknown = [o for o in chosen if o not in (*FORMS, "sysAttrs", "noOverwrite", "replace", "update")]
    if unknown:
        raise bad_data(f"options: unknown {unknown}")
    forms = [o for o in chosen if o in FORMS]
    if len(forms) > 1:
        raise bad_data("options: keyValues, concise and normalized exclude each other")
    return (forms[0] if forms else "normalized"), "sysAttrs" in chosen


def partial_or_done(outcome: Outcome, context: Context) -> Response:
    if outcome.not_updated:
        return Response(orjson.dumps(outcome.body(context)), 207, media_type="application/json")
    return Response(status_code=204)


@router.get("/ngsi-ld/v1/jsonldContexts/core", summary="The NGSI-LD core @context, served from the package")
async def core_context() -> Response:
    return Response(orjson.dumps(core_document()), media_type=JSON_LD)


@router.get("/ngsi-ld/v1/entities", summary="Query entities (type, id, idPattern, attrs, q, geoQ)")
async def query_entities(
    request: Request,
    caller: CallerDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
    count: bool = False,
    options: Options = None,
) -> Response:
    context = context_of(request)
    form, sys_attrs = form_of(options)
    if limit == 0 and not count:
        raise bad_data("limit: 0 only with count=true")
    selection = filters.selection(context, caller.areas)
    kernel = kernel_of(request)
    page, total = await anyio.to_thread.run_sync(find_with_views, kernel, caller, selection, offset, limit)
    shown = selection.attrs
    body = [render(entity, context, form, shown, sys_attrs) for entity in page]
    headers = {"NGSILD-Results-Count": str(total)} if count else None
    return respond(request, body, context, headers=headers)


@router.post("/ngsi-ld/v1/entities", status_code=201, summary="Create an entity")
async def create_entity(request: Request, caller: CallerDep) -> Response:
    body = await read_json(request)
    context = context_of(request, body)
    writer = writer_of(request, caller, context)
    urn = await create(writer, body)
    await flush(writer)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/entities/{urn}"})


@router.get("/ngsi-ld/v1/entities/{entity_id}", summary="Retrieve an entity")
async def retrieve_entity(
    request: Request,
    caller: CallerDep,
    entity_id: Uri,
    attrs: Annotated[str | None, Query(max_length=4000)] = None,
    options: Options = None,
) -> Response:
    context = context_of(request)
    form, sys_attrs = form_of(options)
    view_type = view_type_of(kernel_of(request), entity_id)
    if view_type is None:
        entity = await existing(writer_of(request, caller, context), entity_id)
    else:
        found = await anyio.to_thread.run_sync(view_entity, kernel_of(request), caller, view_type, entity_id)
        if found is None:
            raise not_found(entity_id)
        entity = found
    names = split_list(attrs, "attrs")
    shown = None if names is None else {context.stored_name(n) for n in names}
    return respond(request, render(entity, context, form, shown, sys_attrs), context)


@router.put("/ngsi-ld/v1/entities/{entity_id}", status_code=204, summary="Replace an entity")
async def replace(request: Request, caller: CallerDep, entity_id: Uri) -> Response:
    body = await read_json(request)
    context = context_of(request, body)
    if not isinstance(body, dict):
        raise bad_data("an entity must be a JSON object")
    if body.get("id", entity_id) != entity_id:
        raise bad_data("id: differs from the id in the path")
    writer = writer_of(request, caller, context)
    entity = await existing(writer, entity_id)
    if "type" in body and context.stored_name(str(body["type"])) != entity.type:
        raise bad_data("type: an entity's type cannot change")
    await replace_entity(writer, entity, body)
    await flush(writer)
    return Response(status_code=204)


@router.delete("/ngsi-ld/v1/entities/{entity_id}", status_code=204, summary="Delete an entity")
async def remove_entity(request: Request, caller: CallerDep, entity_id: Uri) -> Response:
    await delete_entity(writer_of(request, caller, context_of(request)), entity_id)
    return Response(status_code=204)


@router.post("/ngsi-ld/v1/entities/{entity_id}/attrs", summary="Append attributes (options=noOverwrite)")
async def append_attributes(
    request: Request, caller: CallerDep, entity_id: Uri, options: Options = None
) -> Response:
    body = await read_json(request)
    context = context_of(request, body)
    writer = writer_of(request, caller, context)
    entity = await existing(writer, entity_id)
    overwrite = "noOverwrite" not in (options or "").split(",")
    outcome = await update_attributes(writer, entity, body, overwrite=overwrite, only_existing=False)
    await flush(writer)
    return partial_or_done(outcome, context)


@router.patch("/ngsi-ld/v1/entities/{entity_id}/attrs", summary="Update existing attributes")
async def update_entity_attributes(request: Request, caller: CallerDep, entity_id: Uri) -> Response:
    body = await read_json(request)
    context = context_of(request, body)
    writer = writer_of(request, caller, context)
    entity = await existing(writer, entity_id)
    outcome = await update_attributes(writer, entity, body, overwrite=True, only_existing=True)
    await flush(writer)
    return partial_or_done(outcome, context)


def _single(body: Any, attr_id: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_data(f"{attr_id}: the attribute must be a JSON object")
    return {attr_id: {k: v for k, v in body.items() if k != "@context"}}


@router.patch("/ngsi-ld/v1/entities/{entity_id}/attrs/{attr_id}", summary="Partially update an attribute")
async def update_attribute(request: Request, caller: CallerDep, entity_id: Uri, attr_id: Uri) -> Response:
    body = await read_json(request)
    context = context_of(request, body)
    writer = writer_of(request, caller, context)
    entity = await existing(writer, entity_id)
    name = context.stored_name(attr_id)
    current = entity.normalized_attributes().get(name)
    if current is None:
        raise not_found(f"{attr_id} of {entity_id}", "attribute")
    patch = _single(body, attr_id)[attr_id]
    merged = {k: v for k, v in current.items() if k not in ("observedAt",) or name not in entity.metrics}
    merged.update(patch)
    await update_attributes(writer, entity, {attr_id: merged}, overwrite=True, only_existing=True)
    await flush(writer)
    return Response(status_code=204)


@router.put("/ngsi-ld/v1/entities/{entity_id}/attrs/{attr_id}", summary="Replace an attribute")
async def replace_attribute(request: Request, caller: CallerDep, entity_id: Uri, attr_id: Uri) -> Response:
    body = await read_json(request)
    context = context_of(request, body)
    writer = writer_of(request, caller, context)
    entity = await existing(writer, entity_id)
    if context.stored_name(attr_id) not in entity.normalized_attributes():
        raise not_found(f"{attr_id} of {entity_id}", "attribute")
    await update_attributes(writer, entity, _single(body, attr_id), overwrite=True, only_existing=True)
    await flush(writer)
    return Response(status_code=204)


@router.delete("/ngsi-ld/v1/entities/{entity_id}/attrs/{attr_id}", summary="Delete an attribute")
async def remove_attribute(request: Request, caller: CallerDep, entity_id: Uri, attr_id: Uri) -> Response:
    context = context_of(request)
    writer = writer_of(request, caller, context)
    entity = await existing(writer, entity_id)
    await delete_attribute(writer, entity, context.stored_name(attr_id))
    await flush(writer)
    return Response(status_code=204)
