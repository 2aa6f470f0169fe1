"""Batch entity operations: `/ngsi-ld/v1/entityOperations/create|upsert|update|delete` (ETSI GS CIM 009
clause 5.6.7-5.6.10) with the partial-success answer (207: `success` and `errors`). Each entity
succeeds or fails on its own; the metric values of the entities that succeeded are stored in one
batch at the end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Query, Request, Response

from cityops.api.ngsild.entities import writer_of
from cityops.api.ngsild.errors import NgsiError, NgsiRoute, bad_data
from cityops.api.ngsild.exchange import CallerDep, context_of, read_json
from cityops.api.ngsild.writing import (
    Writer,
    create,
    delete_entity,
    existing,
    flush,
    update_attributes,
    upsert,
)
from cityops.core.entities import URN_PATTERN

router = APIRouter(route_class=NgsiRoute, tags=["NGSI-LD"])
MAX_BATCH = 1000
Options = Annotated[str | None, Query(max_length=100)]


def _entity_id(item: Any) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return str(item["id"])
    return str(item) if isinstance(item, str) else ""


async def _each(
    writer: Writer, items: list[Any], operation: Callable[[Any], Awaitable[bool]]
) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Run `operation` on every item: (ids that succeeded, of those the ones created, errors)."""
    done: list[str] = []
    created: list[str] = []
    errors: list[dict[str, Any]] = []
    ids = [entity_id for entity_id in map(_entity_id, items) if URN_PATTERN.match(entity_id)]
    await anyio.to_thread.run_sync(writer.read_ahead, list(dict.fromkeys(ids)))
    for item in items:
        entity_id = _entity_id(item)
        try:
            if await operation(item):
                created.append(entity_id)
            done.append(entity_id)
        except NgsiError as exc:
            errors.append({"entityId": entity_id, "error": exc.body()})
    await flush(writer)
    return done, created, errors


async def _items(request: Request) -> tuple[Any, list[Any]]:
    body = await read_json(request)
    if not isinstance(body, list) or not body:
        raise bad_data("the body must be a non-empty JSON array")
    if len(body) > MAX_BATCH:
        raise bad_data(f"at most {MAX_BATCH} entities per batch ({len(body)} given)")
    return body, body


def _answer(done: list[str], errors: list[dict[str, Any]], all_done: Response) -> Response:
    if errors:
        return Response(orjson.dumps({"success": done, "errors": errors}), 207, media_type="application/json")
    return all_done


@router.post("/ngsi-ld/v1/entityOperations/create", status_code=201, summary="Create entities")
async def batch_create(request: Request, caller: CallerDep) -> Response:
    body, items = await _items(request)
    writer = writer_of(request, caller, context_of(request, body))

    async def one(item: Any) -> bool:
        await create(writer, item)
        return True

    done, _, errors = await _each(writer, items, one)
    return _answer(done, errors, Response(orjson.dumps(done), 201, media_type="application/json"))


@router.post(
    "/ngsi-ld/v1/entityOperations/upsert", summary="Create or replace (options=update: update) entities"
)
async def batch_upsert(request: Request, caller: CallerDep, options: Options = None) -> Response:
    if options not in (None, "replace", "update"):
        raise bad_data("options: replace or update")
    body, items = await _items(request)
    writer = writer_of(request, caller, context_of(request, body))
    replace = options != "update"

    async def one(item: Any) -> bool:
        return await upsert(writer, item, replace)

    done, created, errors = await _each(writer, items, one)
    all_done = (
        Response(orjson.dumps(created), 201, media_type="application/json")
        if created
        else Response(status_code=204)
    )
    return _answer(done, errors, all_done)


@router.post(
    "/ngsi-ld/v1/entityOperations/update", summary="Update entities' attributes (options=noOverwrite)"
)
async def batch_update(request: Request, caller: CallerDep, options: Options = None) -> Response:
    if options not in (None, "noOverwrite"):
        raise bad_data("options: noOverwrite")
    body, items = await _items(request)
    writer = writer_of(request, caller, context_of(request, body))

    async def one(item: Any) -> bool:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise bad_data("id: each entity needs an id")
        entity = await existing(writer, item["id"])
        attributes = {k: v for k, v in item.items() if k not in ("id", "type", "@context")}
        outcome = await update_attributes(
            writer, entity, attributes, overwrite=options is None, only_existing=False
        )
        if outcome.not_updated:
            names = ", ".join(name for name, _ in outcome.not_updated)
            raise bad_data(f"not updated: {names}")
        return False

    done, _, errors = await _each(writer, items, one)
    return _answer(done, errors, Response(status_code=204))


@router.post("/ngsi-ld/v1/entityOperations/delete", summary="Delete entities (a JSON array of ids)")
async def batch_delete(request: Request, caller: CallerDep) -> Response:
    _, items = await _items(request)
    writer = writer_of(request, caller, context_of(request))

    async def one(item: Any) -> bool:
        if not isinstance(item, str):
            raise bad_data("each item must be an entity id (a string)")
        await delete_entity(writer, item)
        return False

    done, _, errors = await _each(writer, items, one)
    return _answer(done, errors, Response(status_code=204))
