"""The entity registry: everything on the map, keyed by an NGSI-LD URN (`urn:ngsi-ld:<Type>:<id>`)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from cityops.core.domain import EntityType
from cityops.core.schema import entities, latest, metrics, observations, rollups
from cityops.core.store import write_transaction

URN_PATTERN = re.compile(
    r"^urn:ngsi-ld:(?P<type>[A-Za-z][A-Za-z0-9]{0,63}):(?P<id>[A-Za-z0-9._~:@!$&'()*+,;=-]{1,120})$"
)

Locate = Callable[[float, float, str], str | None]
# Called inside an upsert's transaction with the entity before (None when new) and after.
OnWrite = Callable[[Connection, dict[str, Any] | None, dict[str, Any]], None]
UPDATE_ENTITY = update(entities).where(entities.c.id == bindparam("entity_id"))
AUDITED_COLUMNS = ("urn", "type", "name", "lon", "lat", "area_code", "legacy_area_code", "attributes")


class EntityError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class EntityWrite:
    urn: str
    name: str
    lon: float | None = None
    lat: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EntityRef:
    id: int
    urn: str
    type: str
    name: str


def make_urn(entity_type: str, local_id: str) -> str:
    return f"urn:ngsi-ld:{entity_type}:{local_id}"


class EntityRegistry:
    """Caches URN -> entity and (type, metric) -> metric id so ingestion validates without queries."""

    def __init__(self, engine: Engine, locate: Locate | None = None) -> None:
        self._engine = engine
        self._locate = locate
        self._lock = threading.Lock()
        self.types: dict[str, EntityType] = {}
        self._by_urn: dict[str, EntityRef] = {}
        self._metric_ids: dict[tuple[str, str], int] = {}

    def register_types(self, types: Iterable[EntityType]) -> None:
        with write_transaction(self._engine) as conn:
            for entity_type in types:
                self.types[entity_type.type] = entity_type
                for spec in entity_type.metrics:
                    key = (entity_type.type, spec.name)
                    row = conn.execute(
                        select(metrics.c.id).where(metrics.c.entity_type == key[0], metrics.c.name == key[1])
                    ).first()
                    if row is None:
                        result = conn.execute(
                            insert(metrics).values(entity_type=key[0], name=key[1], unit=spec.unit)
                        )
                        metric_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                    else:
                        metric_id = int(row.id)
                    self._metric_ids[key] = metric_id
            for row in conn.execute(select(entities.c.id, entities.c.urn, entities.c.type, entities.c.name)):
                self._by_urn[row.urn] = EntityRef(row.id, row.urn, row.type, row.name)

    def resolve(self, urn: str) -> EntityRef | None:
        return self._by_urn.get(urn)

    def reload(self, urn: str) -> EntityRef | None:
        """Read one entity again from the store (another server of a cluster created or renamed it)."""
        query = select(entities.c.id, entities.c.urn, entities.c.type, entities.c.name).where(
            entities.c.urn == urn
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        ref = EntityRef(row.id, row.urn, row.type, row.name)
        with self._lock:
            self._by_urn[urn] = ref
        return ref

    def metric_id(self, entity_type: str, metric: str) -> int | None:
        return self._metric_ids.get((entity_type, metric))

    @property
    def metric_names(self) -> dict[int, tuple[str, str]]:
        return {metric_id: key for key, metric_id in self._metric_ids.items()}

    def upsert(
        self,
        urn: str,
        name: str,
        lon: float | None = None,
        lat: float | None = None,
        attributes: dict[str, Any] | None = None,
        on_write: OnWrite | None = None,
    ) -> tuple[EntityRef, str | None]:
        """Create or update an entity; returns it with its (2025) ward code located from its position.
        `on_write` runs in the same transaction (the audit log)."""
        return self.upsert_many([EntityWrite(urn, name, lon, lat, attributes or {})], on_write)[0]

    def upsert_many(
        self, writes: Sequence[EntityWrite], on_write: OnWrite | None = None
    ) -> list[tuple[EntityRef, str | None]]:
        """Create or update entities in one transaction (all or none): each checked first, then written
        in order; `on_write` runs for each in the transaction."""
        checked = [(write.urn, self._values(write)) for write in writes]
        written = []
        with self._lock, write_transaction(self._engine) as conn:
            for urn, values in checked:
                written.append(self._write(conn, urn, values, on_write))
        return written

    def _values(self, write: EntityWrite) -> dict[str, Any]:
        match = URN_PATTERN.match(write.urn)
        if match is None:
            raise EntityError("id", "must be an NGSI-LD URN 'urn:ngsi-ld:<Type>:<id>'")
        entity_type = match["type"]
        if entity_type not in self.types:
            raise EntityError("type", f"unknown entity type {entity_type!r}; known: {sorted(self.types)}")
        if not write.name.strip():
            raise EntityError("name", "must not be empty")
        lon, lat = write.lon, write.lat
        if (lon is None) != (lat is None):
            raise EntityError("location", "needs both longitude and latitude")
        if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise EntityError("location", "longitude/latitude out of range")
        area = legacy = None
        if self._locate is not None and lon is not None and lat is not None:
            area = self._locate(lon, lat, "2025")
            legacy = self._locate(lon, lat, "legacy")
        return {
            "type": entity_type,
            "name": write.name,
            "lon": lon,
            "lat": lat,
            "area_code": area,
            "legacy_area_code": legacy,
            "attributes": write.attributes,
            "updated_ms": int(time.time() * 1000),
        }

    def _write(
        self, conn: Connection, urn: str, values: dict[str, Any], on_write: OnWrite | None
    ) -> tuple[EntityRef, str | None]:
        existing = self._by_urn.get(urn)
        before = None
        if on_write is not None and existing is not None:
            columns = [entities.c[column] for column in AUDITED_COLUMNS]
            before = dict(conn.execute(select(*columns).where(entities.c.id == existing.id)).one()._mapping)
        # Values as parameters, not in the statement: one compiled statement serves every entity.
        if existing is None:
            result = conn.execute(
                insert(entities), {"urn": urn, "created_ms": values["updated_ms"], **values}
            )
            entity_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        else:
            conn.execute(UPDATE_ENTITY, {"entity_id": existing.id, **values})
            entity_id = existing.id
        if on_write is not None:
            on_write(conn, before, {"urn": urn, **{k: v for k, v in values.items() if k != "updated_ms"}})
        ref = EntityRef(entity_id, urn, values["type"], values["name"])
        self._by_urn[urn] = ref
        return ref, values["area_code"]

    def delete(self, urn: str, on_write: OnWrite | None = None) -> bool:
        """Delete an entity with its observations and rollups; False when there is none.
        `on_write` gets (conn, before, {}) in the same transaction (the audit log)."""
        with self._lock, write_transaction(self._engine) as conn:
            existing = self._by_urn.get(urn)
            if existing is None:
                return False
            columns = [entities.c[name] for name in AUDITED_COLUMNS]
            before = dict(conn.execute(select(*columns).where(entities.c.id == existing.id)).one()._mapping)
            for table in (observations, rollups, latest):
                conn.execute(delete(table).where(table.c.entity_id == existing.id))
            conn.execute(delete(entities).where(entities.c.id == existing.id))
            if on_write is not None:
                on_write(conn, before, {})
            del self._by_urn[urn]
        return True
