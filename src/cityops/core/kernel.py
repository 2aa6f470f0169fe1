"""The kernel object: store, bus, registries and the loaded domains, wired together once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection, Engine

from cityops.core import areas, audit
from cityops.core.bus import BatchQueue, Bus, InProcessBus
from cityops.core.domain import Domain, discover_domains
from cityops.core.entities import EntityRef, EntityRegistry, EntityWrite, make_urn
from cityops.core.events import EntityUpserted, Event, ObservationsRecorded, SeriesPoint
from cityops.core.incidents.desk import IncidentDesk
from cityops.core.indicators import Indicator
from cityops.core.ingest import PointBatch
from cityops.core.observations import ObservationStore, StoredBatch
from cityops.core.rules.engine import RuleCatalogue, RuleEngine
from cityops.core.store import open_engine, upgrade, write_transaction

log = logging.getLogger(__name__)


def _newest_points(batch: PointBatch) -> list[tuple[int, int, int, float]]:
    """(entity id, metric id, ts_ms, value) of the newest point of each series in the batch."""
    newest: dict[tuple[int, int], tuple[int, float]] = {}
    for entity_id, metric_id, ts_ms, value in zip(
        batch.entity_ids, batch.metric_ids, batch.ts_ms, batch.values, strict=True
    ):
        seen = newest.get((entity_id, metric_id))
        if seen is None or ts_ms > seen[0]:
            newest[entity_id, metric_id] = (ts_ms, value)
    return [(e, m, t, v) for (e, m), (t, v) in sorted(newest.items())]


@dataclass(frozen=True, slots=True)
class Accepted:
    """An ingestion request's outcome: stored (`duplicates` counted) or queued for a recorder."""

    batch_id: int
    points: int
    duplicates: int | None = None

    @property
    def queued(self) -> bool:
        return self.duplicates is None


@dataclass
class Kernel:
    engine: Engine
    bus: Bus
    domains: list[Domain]
    area_index: areas.AreaIndex
    registry: EntityRegistry
    observations: ObservationStore
    rules: RuleEngine
    incidents: IncidentDesk
    simulated: bool = False
    indicators: list[Indicator] = field(default_factory=list)
    # Each running domain's state, from its `setup` (see `Domain.setup`), by domain name.
    states: dict[str, Any] = field(default_factory=dict)
    # Set in a cluster: API servers queue batches there and recorders store them (`accept`).
    queue: BatchQueue | None = None
    # False in a process that must not evaluate rules nor run their timers (an API server or a recorder
    # of a cluster, where rule evaluators do it).
    evaluates: bool = True

    @classmethod
    def open(
        cls,
        database_url: str,
        domain_names: list[str] | None = None,
        node_modules: Path | None = None,
        bus: Bus | None = None,
        simulated: bool = False,
        queue: BatchQueue | None = None,
        evaluates: bool = True,
    ) -> Kernel:
        domains = discover_domains(domain_names)
        engine = open_engine(database_url)
        upgrade(engine, [d.folder / "migrations" for d in domains if (d.folder / "migrations").is_dir()])
        with write_transaction(engine) as conn:
            areas.load_reference(conn, node_modules)
        with engine.connect() as conn:
            area_index = areas.AreaIndex.from_connection(conn)
        registry = EntityRegistry(engine, area_index.locate)
        registry.register_types(t for d in domains for t in d.entity_types)
        bus = bus or InProcessBus()
        indicators = [i for d in domains for i in d.indicators]
        catalogue = RuleCatalogue(
            entity_types=registry.types,
            indicators={i.id: i for i in indicators},
            templates={t.id: t for d in domains for t in d.rule_templates},
        )
        states: dict[str, Any] = {}
        rules = RuleEngine(engine, bus, catalogue, states=states)
        incidents = IncidentDesk(engine, bus, locate=area_index.locate)
        if evaluates:
            rules.attach()
            incidents.attach()
        return cls(
            engine=engine,
            bus=bus,
            domains=domains,
            area_index=area_index,
            registry=registry,
            observations=ObservationStore(engine),
            rules=rules,
            incidents=incidents,
            simulated=simulated,
            indicators=indicators,
            states=states,
            queue=queue,
            evaluates=evaluates,
        )

    async def accept(self, batch: PointBatch, source: str) -> Accepted:
        """Take a validated batch from a client: queue it when the kernel has a queue, else record it."""
        if self.queue is not None:
            return Accepted(await self.queue.submit(batch, source), len(batch))
        stored = await self.record(batch, source)
        return Accepted(stored.batch_id, stored.accepted, stored.duplicates)

    async def record(self, batch: PointBatch, source: str, batch_id: int | None = None) -> StoredBatch:
        """Store a validated batch, then publish it; returns once both have it. A batch already stored
        under `batch_id` (a queue delivering it again) is not stored again; it is announced again with
        its own newest points, which a queue's bus drops when the first announcement went out (message
        id = batch id) and delivers when the recorder died between the commit and the announcement."""
        (stored,) = await self.record_many([(batch, source, batch_id)])
        return stored

    async def record_many(self, queued: Sequence[tuple[PointBatch, str, int | None]]) -> list[StoredBatch]:
        """`record` for several (batch, source, batch id) at once: stored in one transaction (all or
        none), then each one published, in order. A recorder stores what it finds queued this way."""
        stored_all = await anyio.to_thread.run_sync(self.observations.write_many, queued)
        result = []
        for (batch, _, batch_id), stored in zip(queued, stored_all, strict=True):
            if batch_id is not None and not stored.newest and len(batch):
                stored = replace(stored, newest=_newest_points(batch))
            await self.bus.publish(self.recorded_event(batch, stored))
            result.append(stored)
        return result

    def recorded_event(self, batch: PointBatch, stored: StoredBatch) -> ObservationsRecorded:
        names = self.registry.metric_names
        sample = []
        for entity_id, metric_id, ts_ms, value in stored.newest[: ObservationsRecorded.SAMPLE_LIMIT]:
            ref = batch.entities[entity_id]
            sample.append(SeriesPoint(ref.urn, ref.type, ref.name, names[metric_id][1], ts_ms, value))
        return ObservationsRecorded(
            stored.batch_id, stored.received_ms, stored.accepted, tuple(sample), tuple(stored.newest)
        )

    async def upsert_entity(
        self,
        urn: str,
        name: str,
        lon: float | None,
        lat: float | None,
        attributes: dict[str, object],
        actor: str | None = None,
    ) -> tuple[EntityRef, str | None]:
        """Create or update an entity; with `actor`, the change is audited in the same transaction."""
        written = await self.upsert_entities([EntityWrite(urn, name, lon, lat, dict(attributes))], actor)
        return written[0]

    async def upsert_entities(
        self, writes: list[EntityWrite], actor: str | None = None
    ) -> list[tuple[EntityRef, str | None]]:
        """Create or update entities in one transaction; with `actor`, each change is audited in it."""

        def audited(conn: Connection, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
            assert actor is not None
            action = "entity.create" if before is None else "entity.update"
            audit.record(conn, actor, action, f"entity:{after['urn']}", before, after)

        written = await anyio.to_thread.run_sync(
            lambda: self.registry.upsert_many(writes, audited if actor else None)
        )
        for write, (ref, area) in zip(writes, written, strict=True):
            await self.bus.publish(EntityUpserted(ref.urn, ref.type, ref.name, write.lon, write.lat, area))
        return written

    async def delete_entity(self, urn: str, actor: str) -> bool:
        """Delete an entity, its observations and rollups (audited as `entity.delete`); False if none."""

        def audited(conn: Connection, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
            audit.record(conn, actor, "entity.delete", f"entity:{urn}", before, None)

        return await anyio.to_thread.run_sync(self.registry.delete, urn, audited)

    def follow_cluster(self) -> None:
        """Keep this server's entity cache and alert rules in step with the other servers of a cluster
        (their `EntityUpserted` and `RuleChanged` events come through the bus)."""

        async def reload(event: Event) -> None:
            if isinstance(event, EntityUpserted):
                await anyio.to_thread.run_sync(self.registry.reload, event.urn)

        self.bus.subscribe(EntityUpserted.subject, reload)
        self.rules.follow_edits()

    async def start_evaluation(self) -> list[asyncio.Task[None]]:
        """Catch the rules up with the store and start their timers and the incidents' SLA timer; the
        caller cancels the tasks returned."""
        await self.rules.start()
        return [
            asyncio.create_task(self.rules.run_timer(), name="rules-timer"),
            asyncio.create_task(self.incidents.run_timer(), name="incidents-sla"),
        ]

    def setup_domains(self) -> None:
        """Start every domain that keeps state (`Domain.setup`); one already set up is left as it is."""
        for domain in self.domains:
            if domain.setup is not None and domain.name not in self.states:
                self.states[domain.name] = domain.setup(self)

    def stop_domains(self) -> None:
        """Stop every running domain (`Domain.stop`), each even if another fails."""
        for domain in self.domains:
            if domain.name not in self.states:
                continue
            state = self.states.pop(domain.name)
            if domain.stop is None:
                continue
            try:
                domain.stop(self, state)
            except Exception:  # one domain's failure must not keep the others from stopping
                log.exception("domain %s failed to stop cleanly", domain.name)

    def load_samples(self) -> int:
        """Register every domain's sample entities (the demo province); returns how many."""
        count = 0
        for domain in self.domains:
            if domain.sample_entities is None:
                continue
            for entity_type, sample in domain.sample_entities():
                self.registry.upsert(
                    make_urn(entity_type, sample.id), sample.name, sample.lon, sample.lat, sample.attributes
                )
                count += 1
        return count

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    async def close(self) -> None:
        await self.bus.close()
        self.engine.dispose()
