"""Entity writes of the NGSI-LD API (create, upsert, append, update, replace, delete), shared by the
entity routes and the batch operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityops.api.ngsild.context import Context
from cityops.api.ngsild.errors import NgsiError, bad_data, not_found
from cityops.api.ngsild.exchange import Caller
from cityops.api.ngsild.persistence import (
    check_tenant,
    check_type,
    existing_conflict,
    fetch,
    load_many,
    merged_attributes,
    metric_names,
    observations_of,
    record,
    type_of_urn,
)
from cityops.api.ngsild.representation import Fragment, StoredEntity, fragment_of
from cityops.api.ngsild.views import read_only, refuse_view, view_type_of
from cityops.core.entities import EntityError, EntityWrite
from cityops.core.kernel import Kernel


@dataclass(frozen=True, slots=True)
class Writer:
    kernel: Kernel
    caller: Caller
    context: Context
    max_points: int
    # Metric values waiting to be stored in one batch by `flush` (one transaction for a whole request).
    pending: list[tuple[str, str, float, int | None]] = field(default_factory=list)
    # Entity writes waiting for `flush` (one transaction), by id.
    staged: dict[str, EntityWrite] = field(default_factory=dict)
    # Entities read ahead by a batch (`read_ahead`), by id; None: known not to exist.
    known: dict[str, StoredEntity | None] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return self.caller.principal.actor

    def stage(
        self, urn: str, name: str, location: tuple[float, float] | None, attributes: dict[str, Any]
    ) -> None:
        lon, lat = location if location is not None else (None, None)
        self.staged[urn] = EntityWrite(urn, name, lon, lat, attributes)

    async def lookup(self, urn: str) -> StoredEntity | None:
        if urn in self.known:
            return self.known[urn]
        return await fetch(self.kernel, urn, self.caller.areas)

    def read_ahead(self, urns: list[str]) -> None:
        """Read the entities a batch names in one query."""
        found = {entity.urn: entity for entity in load_many(self.kernel, urns, self.caller.areas)}
        self.known.update({urn: found.get(urn) for urn in urns})


@dataclass(slots=True)
class Outcome:
    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)

    def body(self, context: Context) -> dict[str, Any]:
        return {
            "updated": [context.term_for(name) for name in self.updated],
            "notUpdated": [
                {"attributeName": context.term_for(name), "reason": why} for name, why in self.not_updated
            ],
        }


def entity_head(body: Any, context: Context, kernel: Kernel) -> tuple[str, str]:
    """(id, stored type) of an entity body, checked against each other and the registered types."""
    if not isinstance(body, dict):
        raise bad_data("an entity must be a JSON object")
    urn, kind = body.get("id"), body.get("type")
    if not isinstance(urn, str):
        raise bad_data("id: required, a URI")
    if not isinstance(kind, str):
        raise bad_data("type: required, a string")
    stored_type = context.stored_name(kind)
    refuse_view(kernel, stored_type)
    id_type = type_of_urn(urn)
    if id_type != stored_type:
        raise bad_data(f"type: {kind!r} does not match the type in the id ({id_type!r})")
    check_type(kernel, stored_type)
    return urn, stored_type


def default_name(urn: str) -> str:
    return urn.split(":", 3)[3]


async def create(writer: Writer, body: Any) -> str:
    writer.caller.require_entity_writer()
    urn, kind = entity_head(body, writer.context, writer.kernel)
    fragment = fragment_of(body, writer.context, metric_names(writer.kernel, kind))
    if writer.kernel.registry.resolve(urn) is not None or urn in writer.staged:
        raise existing_conflict(urn)
    check_tenant(writer.kernel, writer.caller.areas, fragment.location)
    writer.stage(urn, fragment.name or default_name(urn), fragment.location, fragment.attributes)
    writer.pending.extend(observations_of(urn, fragment))
    return urn


async def flush(writer: Writer) -> None:
    """Store what the request wrote: the entities in one transaction, then their metric values in one
    batch."""
    writes = list(writer.staged.values())
    points = list(writer.pending)
    writer.staged.clear()
    writer.pending.clear()
    writer.known.clear()
    if writes:
        try:
            await writer.kernel.upsert_entities(writes, actor=writer.actor)
        except EntityError as exc:
            raise bad_data(f"{exc.field}: {exc.message}") from None
    await record(writer.kernel, writer.actor, points, writer.max_points)


async def existing(writer: Writer, urn: str) -> StoredEntity:
    view_type = view_type_of(writer.kernel, urn)
    if view_type is not None:
        raise read_only(view_type)
    type_of_urn(urn)
    entity = await writer.lookup(urn)
    if entity is None:
        raise not_found(urn)
    return entity


def _device_may(writer: Writer, fragment: Fragment) -> None:
    if writer.caller.is_device and (
        fragment.name is not None or fragment.location is not None or fragment.attributes or fragment.deleted
    ):
        writer.caller.require_entity_writer()


async def update_attributes(
    writer: Writer, entity: StoredEntity, body: Any, overwrite: bool, only_existing: bool
) -> Outcome:
    """Append (`only_existing` False) or update (True) the attributes of `body`."""
    if not isinstance(body, dict):
        raise bad_data("the attributes must be a JSON object")
    fragment = fragment_of(body, writer.context, metric_names(writer.kernel, entity.type))
    if not fragment.names():
        raise bad_data("no attribute to write")
    _device_may(writer, fragment)
    attributes, updated, skipped = merged_attributes(entity, fragment, overwrite, only_existing)
    outcome = Outcome(updated, skipped)
    name, location = entity.name, entity.location
    if fragment.name is not None:
        if overwrite:
            name = fragment.name
            outcome.updated.append("name")
        else:
            outcome.not_updated.append(("name", "the attribute exists and noOverwrite was asked"))
    if fragment.location is not None:
        if location is not None and not overwrite:
            outcome.not_updated.append(("location", "the attribute exists and noOverwrite was asked"))
        elif location is None and only_existing:
            outcome.not_updated.append(("location", "the attribute does not exist"))
        else:
            check_tenant(writer.kernel, writer.caller.areas, fragment.location)
            location = fragment.location
            outcome.updated.append("location")
    observations = []
    for metric, point in fragment.observations.items():
        if only_existing and metric not in entity.metrics:
            outcome.not_updated.append((metric, "the attribute does not exist"))
        elif not overwrite and metric in entity.metrics:
            outcome.not_updated.append((metric, "the attribute exists and noOverwrite was asked"))
        else:
            observations.append((entity.urn, metric, *point))
            outcome.updated.append(metric)
    changed = name != entity.name or location != entity.location or attributes != entity.attributes
    if changed:
        writer.stage(entity.urn, name, location, attributes)
    writer.pending.extend(observations)
    return outcome


async def replace_entity(writer: Writer, entity: StoredEntity, body: dict[str, Any]) -> None:
    """Every attribute replaced by the body's (metrics' history stays: new values are appended)."""
    writer.caller.require_entity_writer()
    fragment = fragment_of(body, writer.context, metric_names(writer.kernel, entity.type))
    check_tenant(writer.kernel, writer.caller.areas, fragment.location)
    writer.stage(
        entity.urn, fragment.name or default_name(entity.urn), fragment.location, fragment.attributes
    )
    writer.pending.extend(observations_of(entity.urn, fragment))


async def delete_attribute(writer: Writer, entity: StoredEntity, name: str) -> None:
    writer.caller.require_entity_writer()
    if name == "name":
        raise NgsiError(
            "OperationNotSupported", "name: every cityops entity keeps a name; replace it instead"
        )
    if name in entity.metrics:
        raise NgsiError(
            "OperationNotSupported",
            f"{name}: a metric's series is kept; delete the entity to delete its observations",
        )
    if name == "location" and entity.location is not None:
        if writer.caller.areas is not None:
            raise bad_data("location: an entity of a tenant keeps its location")
        writer.stage(entity.urn, entity.name, None, entity.attributes)
        return
    if name not in entity.attributes:
        raise not_found(f"{name} of {entity.urn}", "attribute")
    attributes = {k: v for k, v in entity.attributes.items() if k != name}
    writer.stage(entity.urn, entity.name, entity.location, attributes)


async def delete_entity(writer: Writer, urn: str) -> None:
    writer.caller.require_entity_writer()
    await existing(writer, urn)
    if not await writer.kernel.delete_entity(urn, writer.actor):
        raise not_found(urn)


async def upsert(writer: Writer, body: Any, replace: bool) -> bool:
    """Create the entity, or replace (or update) it when it exists; True when it was created."""
    urn, _ = entity_head(body, writer.context, writer.kernel)
    if urn in writer.staged:
        raise bad_data(f"{urn} appears more than once in the request")
    entity = await writer.lookup(urn)
    if entity is None:
        if writer.kernel.registry.resolve(urn) is not None:  # it exists, outside the tenant
            raise bad_data(f"{urn} exists outside the NGSILD-Tenant's area")
        await create(writer, body)
        return True
    if replace and not writer.caller.is_device:
        await replace_entity(writer, entity, body)
    else:
        attributes = {k: v for k, v in body.items() if k not in ("id", "type", "@context")}
        if attributes:
            await update_attributes(writer, entity, attributes, overwrite=True, only_existing=False)
    return False
