"""Finding entities: `type`, `id`, `idPattern`, `attrs`, `q` and geo-queries over the store, narrowed in
SQL (type, id, tenant, the geo-query's bounding box) and finished in the process (`q`, `idPattern`,
`attrs`, exact geometry)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import ColumnElement, func, select

from cityops.api.ngsild import query_language
from cityops.api.ngsild.context import Context
from cityops.api.ngsild.errors import bad_data
from cityops.api.ngsild.geoquery import GeoQuery, parse_geoquery
from cityops.api.ngsild.persistence import attach_metrics, entity_query, load, tenant_clause
from cityops.api.ngsild.query_sql import narrowing
from cityops.api.ngsild.representation import StoredEntity
from cityops.core.kernel import Kernel
from cityops.core.schema import entities

MAX_IDS = 1000
MAX_PATTERN = 500


@dataclass(frozen=True, slots=True)
class Selection:
    types: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: re.Pattern[str] | None = None
    attrs: frozenset[str] | None = None
    q: query_language.Node | None = None
    geo: GeoQuery | None = None
    areas: frozenset[str] | None = None  # the tenant's


def split_list(raw: str | None, name: str) -> list[str] | None:
    if raw is None:
        return None
    items = [item.strip() for item in re.split(r"[,|]", raw) if item.strip()]
    if not items:
        raise bad_data(f"{name}: must not be empty")
    if len(items) > MAX_IDS:
        raise bad_data(f"{name}: at most {MAX_IDS} items")
    return items


def rename_terms(node: query_language.Node, context: Context) -> query_language.Node:
    """The query with its attribute names in the store's names."""
    if isinstance(node, query_language.Term):
        return replace(node, path=(context.stored_name(node.path[0]), *node.path[1:]))
    parts = tuple(rename_terms(part, context) for part in node.parts)
    return type(node)(parts)


def selection_of(
    context: Context,
    type_param: str | None,
    id_param: str | None,
    id_pattern: str | None,
    attrs: str | None,
    q: str | None,
    geo: GeoQuery | None,
    areas: frozenset[str] | None,
) -> Selection:
    types = split_list(type_param, "type")
    ids = split_list(id_param, "id")
    names = split_list(attrs, "attrs")
    pattern = None
    if id_pattern is not None:
        if len(id_pattern) > MAX_PATTERN:
            raise bad_data(f"idPattern: at most {MAX_PATTERN} characters")
        try:
            pattern = re.compile(id_pattern)
        except re.error as exc:
            raise bad_data(f"idPattern: bad regular expression ({exc})") from None
    node = None
    if q is not None:
        try:
            node = rename_terms(query_language.parse(q), context)
        except query_language.QueryError as exc:
            raise bad_data(str(exc)) from None
    return Selection(
        types=None if types is None else tuple(context.stored_name(t) for t in types),
        ids=None if ids is None else tuple(ids),
        id_pattern=pattern,
        attrs=None if names is None else frozenset(context.stored_name(n) for n in names),
        q=node,
        geo=geo,
        areas=areas,
    )


@dataclass(frozen=True, slots=True)
class Filters:
    """The entity selection of a query's parameters, as given."""

    type: str | None
    id: str | None
    id_pattern: str | None
    attrs: str | None
    q: str | None
    geo: GeoQuery | None

    def selection(self, context: Context, areas: frozenset[str] | None) -> Selection:
        if all(p is None for p in (self.type, self.id, self.id_pattern, self.attrs, self.q, self.geo)):
            raise bad_data("give at least one of type, id, idPattern, attrs, q or a geo-query")
        return selection_of(context, self.type, self.id, self.id_pattern, self.attrs, self.q, self.geo, areas)


def entity_filters(
    type: Annotated[str | None, Query(max_length=2000)] = None,
    id: Annotated[str | None, Query(max_length=200_000)] = None,
    idPattern: Annotated[str | None, Query(max_length=500)] = None,
    attrs: Annotated[str | None, Query(max_length=4000)] = None,
    q: Annotated[str | None, Query(max_length=4000)] = None,
    georel: Annotated[str | None, Query(max_length=100)] = None,
    geometry: Annotated[str | None, Query(max_length=30)] = None,
    coordinates: Annotated[str | None, Query(max_length=100_000)] = None,
    geoproperty: Annotated[str | None, Query(max_length=100)] = None,
) -> Filters:
    """The query parameters that select entities (`GET /entities`, `GET /temporal/entities`)."""
    geo = parse_geoquery(georel, geometry, coordinates, geoproperty)
    return Filters(type, id, idPattern, attrs, q, geo)


FiltersDep = Annotated[Filters, Depends(entity_filters)]


def _conditions(kernel: Kernel, selection: Selection) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if selection.q is not None:
        conditions.append(narrowing(kernel, selection.q))
    if selection.types is not None:
        conditions.append(entities.c.type.in_(selection.types))
    if selection.ids is not None:
        conditions.append(entities.c.urn.in_(selection.ids))
    clause = tenant_clause(selection.areas)
    if clause is not None:
        conditions.append(clause)
    if selection.geo is not None:
        conditions.append(entities.c.lon.is_not(None))
        box = selection.geo.bounds()
        if box is not None:
            west, south, east, north = box
            conditions.append(entities.c.lon.between(west, east))
            conditions.append(entities.c.lat.between(south, north))
    return conditions


def keeps(selection: Selection, entity: StoredEntity) -> bool:
    if selection.id_pattern is not None and selection.id_pattern.search(entity.urn) is None:
        return False
    if selection.geo is not None:
        assert entity.lon is not None and entity.lat is not None
        if not selection.geo.matches(entity.lon, entity.lat):
            return False
    if selection.attrs is None and selection.q is None:
        return True
    attributes = entity.normalized_attributes()
    if selection.attrs is not None and not selection.attrs & attributes.keys():
        return False
    return selection.q is None or query_language.matches(selection.q, attributes)


def find(kernel: Kernel, selection: Selection, offset: int, limit: int) -> tuple[list[StoredEntity], int]:
    """One page of the entities selected, in id order, and how many there are in all."""
    query = entity_query(_conditions(kernel, selection))
    in_process = any(
        (selection.id_pattern, selection.geo, selection.attrs is not None, selection.q is not None)
    )
    with kernel.engine.connect() as conn:
        if not in_process:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            page = load(kernel, conn, query.offset(offset).limit(limit)) if limit else []
            return page, total
        needs_metrics = selection.attrs is not None or selection.q is not None
        kept = [e for e in load(kernel, conn, query, metrics=needs_metrics) if keeps(selection, e)]
        page = kept[offset : offset + limit]
        if not needs_metrics and page:
            attach_metrics(kernel, conn, page)
        return page, len(kept)
