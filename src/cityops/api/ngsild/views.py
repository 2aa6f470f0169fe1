"""Read-only NGSI-LD views (`EntityView`): entity types made from the kernel's and the domains' own
records (alerts, indicators, citizens' reports...), queried and retrieved through `/ngsi-ld/v1/entities`
like the registry's entities, never written (docs/ngsild.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from cityops.api.ngsild.errors import NgsiError
from cityops.api.ngsild.exchange import Caller
from cityops.api.ngsild.finding import Selection, find, keeps
from cityops.api.ngsild.kernel_views import KERNEL_VIEWS
from cityops.api.ngsild.representation import StoredEntity
from cityops.core.domain import EntityView, ViewEntity
from cityops.core.kernel import Kernel


def views_of(kernel: Kernel) -> dict[str, list[EntityView]]:
    """View type -> the views that serve it (the kernel's, then each domain's)."""
    found: dict[str, list[EntityView]] = {}
    for view in (*KERNEL_VIEWS, *(v for d in kernel.domains for v in d.entity_views)):
        found.setdefault(view.type, []).append(view)
    return found


def view_type_of(kernel: Kernel, urn: str) -> str | None:
    """The view type an id names (`urn:ngsi-ld:<Type>:...`), or None for any other id."""
    parts = urn.split(":", 3) if isinstance(urn, str) else []
    if len(parts) == 4 and parts[:2] == ["urn", "ngsi-ld"] and parts[2] in views_of(kernel):
        return parts[2]
    return None


def read_only(entity_type: str) -> NgsiError:
    return NgsiError(
        "OperationNotSupported",
        f"{entity_type} is a read-only view of cityops's own records: read it with GET /ngsi-ld/v1/entities; "
        "it cannot be created, changed or deleted here and has no temporal representation",
    )


def refuse_view(kernel: Kernel, entity_type: str) -> None:
    if entity_type in views_of(kernel):
        raise read_only(entity_type)


def _readable(view: EntityView, caller: Caller) -> bool:
    return view.readers is None or caller.principal.role in view.readers


def _stored(view: EntityView, entity: ViewEntity) -> StoredEntity:
    area = entity.area_codes[0] if entity.area_codes else None
    legacy = entity.area_codes[1] if len(entity.area_codes) > 1 else None
    return StoredEntity(
        id=0,
        urn=entity.id,
        type=view.type,
        name=entity.name,
        lon=entity.lon,
        lat=entity.lat,
        attributes=dict(entity.attributes),
        created_ms=entity.created_ms,
        updated_ms=entity.modified_ms,
        area_code=area,
        legacy_area_code=legacy,
    )


def _visible(entity: StoredEntity, areas: frozenset[str] | None) -> bool:
    if areas is None:
        return True
    return entity.area_code in areas or entity.legacy_area_code in areas


def view_entities(
    kernel: Kernel, caller: Caller, types: Iterable[str], selection: Selection
) -> list[StoredEntity]:
    """Every entity of the view `types` the selection keeps, type by type in the views' own order.
    A view the caller may not read is 403."""
    views = views_of(kernel)
    found: list[StoredEntity] = []
    for entity_type in types:
        for view in views.get(entity_type, []):
            if not _readable(view, caller):
                raise NgsiError(
                    "OperationNotSupported",
                    f"type {entity_type}: the role {caller.principal.role.value} may not read it",
                    title="Forbidden",
                    status=403,
                )
            ids = None if selection.ids is None else frozenset(selection.ids)
            for item in view.entities(kernel, ids):
                entity = _stored(view, item)
                if not _visible(entity, selection.areas):
                    continue
                if selection.geo is not None and entity.location is None:
                    continue
                if keeps(selection, entity):
                    found.append(entity)
    return found


def view_entity(kernel: Kernel, caller: Caller, entity_type: str, urn: str) -> StoredEntity | None:
    selection = Selection(ids=(urn,), areas=caller.areas)
    found = view_entities(kernel, caller, [entity_type], selection)
    return found[0] if found else None


def find_with_views(
    kernel: Kernel, caller: Caller, selection: Selection, offset: int, limit: int
) -> tuple[list[StoredEntity], int]:
    """`finding.find` over the store and the views the query names (by `type`, or by the ids when no type
    is given): the store's entities first, then the views'."""
    views = views_of(kernel)
    if selection.types is not None:
        named = [t for t in selection.types if t in views]
        others = tuple(t for t in selection.types if t not in views)
        stored = replace(selection, types=others) if others else None
    else:
        named = sorted({t for t in (view_type_of(kernel, i) for i in selection.ids or ()) if t is not None})
        stored = selection
    if not named:
        return find(kernel, selection, offset, limit)
    extra = view_entities(kernel, caller, named, selection)
    page, total = find(kernel, stored, offset, limit) if stored is not None else ([], 0)
    start = max(0, offset - total)
    page = page + extra[start : start + max(0, limit - len(page))]
    return page, total + len(extra)
