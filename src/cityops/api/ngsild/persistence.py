"""Reading entities for the NGSI-LD API from the kernel's tables, and writing through the kernel (the
registry for entities, the observation store for metric values), so NGSI-LD writes are validated,
audited and published exactly like the rest of the API's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio.to_thread
from sqlalchemy import ColumnElement, Connection, Select, and_, or_, select

from cityops.api.ngsild.errors import NgsiError, bad_data
from cityops.api.ngsild.representation import Fragment, StoredEntity
from cityops.core.entities import URN_PATTERN
from cityops.core.ingest import IngestError, validate_points
from cityops.core.kernel import Kernel
from cityops.core.schema import entities, latest

ENTITY_COLUMNS = (
    entities.c.id,
    entities.c.urn,
    entities.c.type,
    entities.c.name,
    entities.c.lon,
    entities.c.lat,
    entities.c.attributes,
    entities.c.created_ms,
    entities.c.updated_ms,
    entities.c.area_code,
    entities.c.legacy_area_code,
)
CHUNK = 900  # ids per IN (...) list, under SQLite's default variable limit


def type_of_urn(urn: str, field_name: str = "id") -> str:
    match = URN_PATTERN.match(urn) if isinstance(urn, str) else None
    if match is None:
        raise bad_data(f"{field_name}: {urn!r} is not an id cityops keeps; ids are 'urn:ngsi-ld:<Type>:<id>'")
    return match["type"]


def tenant_clause(areas: frozenset[str] | None) -> ColumnElement[bool] | None:
    if areas is None:
        return None
    codes = sorted(areas)
    return or_(entities.c.area_code.in_(codes), entities.c.legacy_area_code.in_(codes))


def entity_query(conditions: Iterable[ColumnElement[bool]]) -> Select[Any]:
    return select(*ENTITY_COLUMNS).where(and_(True, *conditions)).order_by(entities.c.id)


def load(kernel: Kernel, conn: Connection, query: Select[Any], metrics: bool = True) -> list[StoredEntity]:
    found = [
        StoredEntity(
            row.id,
            row.urn,
            row.type,
            row.name,
            row.lon,
            row.lat,
            dict(row.attributes or {}),
            row.created_ms,
            row.updated_ms,
            row.area_code,
            row.legacy_area_code,
        )
        for row in conn.execute(query)
    ]
    if metrics and found:
        attach_metrics(kernel, conn, found, query)
    return found


def attach_metrics(
    kernel: Kernel, conn: Connection, found: list[StoredEntity], selected: Select[Any] | None = None
) -> None:
    """The newest metric values of `found`; `selected` (the query that found them) reads them in one
    statement when they are many."""
    names = kernel.registry.metric_names
    by_id = {entity.id: entity for entity in found}
    columns = (latest.c.entity_id, latest.c.metric_id, latest.c.ts_ms, latest.c.value)
    if selected is not None and len(found) > CHUNK:
        ids = selected.with_only_columns(entities.c.id).order_by(None)
        queries = [select(*columns).where(latest.c.entity_id.in_(ids))]
    else:
        keys = list(by_id)
        queries = [
            select(*columns).where(latest.c.entity_id.in_(keys[start : start + CHUNK]))
            for start in range(0, len(keys), CHUNK)
        ]
    for query in queries:
        for entity_id, metric_id, ts_ms, value in conn.execute(query):
            name = names.get(metric_id)
            entity = by_id.get(entity_id)
            if name is not None and entity is not None:
                entity.metrics[name[1]] = (ts_ms, value)


def load_one(kernel: Kernel, urn: str, areas: frozenset[str] | None) -> StoredEntity | None:
    conditions = [entities.c.urn == urn]
    clause = tenant_clause(areas)
    if clause is not None:
        conditions.append(clause)
    with kernel.engine.connect() as conn:
        found = load(kernel, conn, entity_query(conditions))
    return found[0] if found else None


def load_many(kernel: Kernel, urns: list[str], areas: frozenset[str] | None) -> list[StoredEntity]:
    clause = tenant_clause(areas)
    found: list[StoredEntity] = []
    with kernel.engine.connect() as conn:
        for start in range(0, len(urns), CHUNK):
            conditions: list[ColumnElement[bool]] = [entities.c.urn.in_(urns[start : start + CHUNK])]
            if clause is not None:
                conditions.append(clause)
            found.extend(load(kernel, conn, entity_query(conditions)))
    return found


async def fetch(kernel: Kernel, urn: str, areas: frozenset[str] | None) -> StoredEntity | None:
    return await anyio.to_thread.run_sync(load_one, kernel, urn, areas)


def metric_names(kernel: Kernel, entity_type: str) -> frozenset[str]:
    known = kernel.registry.types.get(entity_type)
    return frozenset(spec.name for spec in known.metrics) if known else frozenset()


def check_type(kernel: Kernel, entity_type: str) -> None:
    if entity_type not in kernel.registry.types:
        raise bad_data(
            f"type: cityops keeps no entities of type {entity_type!r}; its types are "
            f"{sorted(kernel.registry.types)}"
        )


def check_tenant(kernel: Kernel, areas: frozenset[str] | None, location: tuple[float, float] | None) -> None:
    """An entity written in a tenant must lie in the tenant's area."""
    if areas is None:
        return
    if location is None:
        raise bad_data(
            "location: an entity written under NGSILD-Tenant needs a location in the tenant's area"
        )
    lon, lat = location
    here = {kernel.area_index.locate(lon, lat, "2025"), kernel.area_index.locate(lon, lat, "legacy")}
    if not here & areas:
        raise bad_data("location: outside the area of the NGSILD-Tenant")


async def record(
    kernel: Kernel, actor: str, points: list[tuple[str, str, float, int | None]], max_points: int
) -> None:
    """Store metric values as observations through the ingestion validation (time range, finiteness)."""
    if not points:
        return
    now = kernel.now_ms()
    raw = [
        {"entity": urn, "metric": metric, "time": now if ms is None else ms, "value": value}
        for urn, metric, value, ms in points
    ]
    try:
        batch = validate_points(raw, kernel.registry, now, max_points)
    except IngestError as exc:
        problems = "; ".join(
            f"{raw[e.index]['entity']} {raw[e.index]['metric']}: {e.field} {e.message}"
            if e.index is not None
            else f"{e.field}: {e.message}"
            for e in exc.errors
        )
        raise bad_data(problems) from None
    await kernel.record(batch, source=f"ngsi-ld:{actor}"[:64])


def observations_of(urn: str, fragment: Fragment) -> list[tuple[str, str, float, int | None]]:
    return [(urn, metric, value, ms) for metric, (value, ms) in fragment.observations.items()]


def merged_attributes(
    entity: StoredEntity, fragment: Fragment, overwrite: bool = True, only_existing: bool = False
) -> tuple[dict[str, Any], list[str], list[tuple[str, str]]]:
    """The entity's attributes with `fragment`'s applied: (attributes, updated names, not updated with why)."""
    attributes = dict(entity.attributes)
    updated: list[str] = []
    skipped: list[tuple[str, str]] = []
    for name, value in fragment.attributes.items():
        exists = name in attributes
        if only_existing and not exists:
            skipped.append((name, "the attribute does not exist"))
            continue
        if exists and not overwrite:
            skipped.append((name, "the attribute exists and noOverwrite was asked"))
            continue
        attributes[name] = value
        updated.append(name)
    return attributes, updated, skipped


def existing_conflict(urn: str) -> NgsiError:
    return NgsiError("AlreadyExists", f"entity {urn} already exists")
