"""What a rule needs to know about the things it watches, kept in memory: each entity's type, place and
areas (with their ancestors, so a rule on a district covers its wards), and the metric ids of each type."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from cityops.core.schema import areas, entities, metrics


class AreaTree:
    def __init__(self, parents: dict[str, str | None]) -> None:
        self.parents = parents
        self._children: dict[str, list[str]] = {}
        for code, parent in parents.items():
            if parent is not None:
                self._children.setdefault(parent, []).append(code)

    @classmethod
    def load(cls, conn: Connection) -> AreaTree:
        return cls(
            {row.code: row.parent_code for row in conn.execute(select(areas.c.code, areas.c.parent_code))}
        )

    def ancestry(self, code: str | None) -> list[str]:
        """The area itself and every area above it."""
        chain: list[str] = []
        while code is not None and code not in chain:
            chain.append(code)
            code = self.parents.get(code)
        return chain

    def descendants(self, code: str) -> set[str]:
        """The area itself and every area below it."""
        found = {code}
        stack = [code]
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


@dataclass(frozen=True, slots=True)
class EntityInfo:
    id: int
    urn: str
    type: str
    name: str
    lon: float | None
    lat: float | None
    area_code: str | None
    legacy_area_code: str | None
    areas: frozenset[str]


class EntityDirectory:
    """Entity id -> `EntityInfo`. Loaded whole at start; entities created later are loaded on first sight
    (`load`) or when the bus says they changed (`reload_urn`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._by_id: dict[int, EntityInfo] = {}
        self._by_urn: dict[str, int] = {}
        self._tree = AreaTree({})
        self.metric_ids: dict[tuple[str, str], int] = {}
        self.metric_of: dict[int, tuple[str, str]] = {}
        self.refresh()

    def refresh(self) -> None:
        with self._engine.connect() as conn:
            tree = AreaTree.load(conn)
            rows = conn.execute(select(metrics.c.id, metrics.c.entity_type, metrics.c.name)).all()
            with self._lock:
                self._tree = tree
                self.metric_ids = {(row.entity_type, row.name): row.id for row in rows}
                self.metric_of = {row.id: (row.entity_type, row.name) for row in rows}
            self._load(conn, None)

    @property
    def tree(self) -> AreaTree:
        return self._tree

    def get(self, entity_id: int) -> EntityInfo | None:
        return self._by_id.get(entity_id)

    def of_type(self, entity_type: str) -> list[EntityInfo]:
        return [info for info in list(self._by_id.values()) if info.type == entity_type]

    def by_urn(self, urn: str) -> EntityInfo | None:
        entity_id = self._by_urn.get(urn)
        return None if entity_id is None else self._by_id.get(entity_id)

    def load(self, ids: Iterable[int]) -> None:
        with self._engine.connect() as conn:
            self._load(conn, list(ids))

    def reload_urn(self, urn: str) -> None:
        with self._engine.connect() as conn:
            self._load(conn, None, urn)

    def _load(self, conn: Connection, ids: list[int] | None, urn: str | None = None) -> None:
        query = select(
            entities.c.id,
            entities.c.urn,
            entities.c.type,
            entities.c.name,
            entities.c.lon,
            entities.c.lat,
            entities.c.area_code,
            entities.c.legacy_area_code,
        )
        if ids is not None:
            query = query.where(entities.c.id.in_(ids))
        if urn is not None:
            query = query.where(entities.c.urn == urn)
        rows = conn.execute(query).all()
        unknown_area = any(
            code is not None and code not in self._tree.parents
            for row in rows
            for code in (row.area_code, row.legacy_area_code)
        )
        if unknown_area:
            self._tree = AreaTree.load(conn)
        with self._lock:
            for row in rows:
                self._by_id[row.id] = EntityInfo(
                    row.id,
                    row.urn,
                    row.type,
                    row.name,
                    row.lon,
                    row.lat,
                    row.area_code,
                    row.legacy_area_code,
                    frozenset(
                        [*self._tree.ancestry(row.area_code), *self._tree.ancestry(row.legacy_area_code)]
                    ),
                )
                self._by_urn[row.urn] = row.id
