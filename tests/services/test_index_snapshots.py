"""The index accumulator is saved beside the dossiers: a server restarted on the same store reads it back
instead of recomputing it, reads the same as a full recomputation, and recomputes when it is stale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.kernel import Kernel
from cityops.services.dossiers.lifecycle import StatusEvent
from cityops.services.importing.readers import Chunk
from cityops.services.index.snapshots import dump, load, restore
from cityops.services.runtime import KINDS, ServicesRuntime, runtime_of
from cityops.services.schema import dossiers, generation

from .conftest import Clock


def restarted(runtime: ServicesRuntime, clock: Clock) -> ServicesRuntime:
    return ServicesRuntime(runtime.engine, clock.seconds)


def imported_year(runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any) -> None:
    runtime.save_catalogue(demo_province.procedures, demo_province.agencies)
    for month, chunk in enumerate(demo_2025):
        runtime.import_chunks([chunk], f"part {month}", "csv")


def test_a_restarted_runtime_reads_the_snapshot_equal_to_a_full_recomputation(
    runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any, clock: Clock
) -> None:
    imported_year(runtime, demo_2025, demo_province)
    clock.now += timedelta(days=40)  # the server was stopped for a while: periods roll on loading
    again = restarted(runtime, clock)
    assert again.last_rebuild.source == "snapshot"
    assert again.last_rebuild.dossiers == sum(len(c.rows) for c in demo_2025)
    loaded = again.accumulator.state()
    again.rebuild()
    assert again.accumulator.state() == loaded
    assert loaded[1]  # not trivially equal


def test_events_are_in_the_snapshot_once_saved(
    runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any, clock: Clock
) -> None:
    imported_year(runtime, demo_2025, demo_province)
    with runtime.engine.connect() as conn:
        code = conn.execute(
            dossiers.select().with_only_columns(dossiers.c.code).where(dossiers.c.status == 4).limit(1)
        ).scalar_one()
    runtime.apply_events([StatusEvent(code=code, status="releasing", at=clock.now)])  # type: ignore[arg-type]
    assert restarted(runtime, clock).last_rebuild.source == "dossiers"  # saved at most every 30 s
    runtime.save_snapshot()
    again = restarted(runtime, clock)
    assert again.last_rebuild.source == "snapshot"
    assert again.accumulator.state() == runtime.accumulator.state()


def test_a_stale_snapshot_is_detected_and_the_index_recomputed(
    runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any, clock: Clock
) -> None:
    imported_year(runtime, demo_2025, demo_province)
    expected = runtime.accumulator.state()
    with runtime.engine.begin() as conn:  # another writer counted its change but never saved a snapshot
        conn.execute(update(generation).values(generation=generation.c.generation + 1))
    again = restarted(runtime, clock)
    assert again.last_rebuild.source == "dossiers"
    assert again.accumulator.state() == expected
    assert restarted(again, clock).last_rebuild.source == "snapshot"  # the recomputation was saved
    with runtime.engine.begin() as conn:  # a dossier removed behind the domain's back
        conn.execute(delete(dossiers).where(dossiers.c.id == 1))
    assert restarted(again, clock).last_rebuild.source == "dossiers"


def test_a_change_by_another_runtime_stops_the_first_from_saving(
    runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any, clock: Clock
) -> None:
    runtime.save_catalogue(demo_province.procedures, demo_province.agencies)
    runtime.import_chunks(demo_2025[:1], "first", "csv")
    other = restarted(runtime, clock)
    other.import_chunks(demo_2025[1:2], "second", "csv")
    runtime.import_chunks(demo_2025[2:], "third", "csv")  # knows nothing of the second part
    assert not runtime.save_snapshot()
    again = restarted(runtime, clock)
    assert again.last_rebuild.source == "dossiers"
    assert again.last_rebuild.dossiers == sum(len(c.rows) for c in demo_2025)


def test_a_dump_loads_back_to_the_same_state(
    runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any
) -> None:
    imported_year(runtime, demo_2025, demo_province)
    assert load(dump(runtime.accumulator)).state() == runtime.accumulator.state()


def test_the_server_saves_the_index_when_it_stops(
    runtime: ServicesRuntime,
    demo_2025: list[Chunk],
    demo_province: Any,
    clock: Clock,
    services_kernel: Kernel,
    settings: Settings,
) -> None:
    imported_year(runtime, demo_2025, demo_province)
    with runtime.engine.connect() as conn:
        code = conn.execute(
            dossiers.select().with_only_columns(dossiers.c.code).where(dossiers.c.status == 4).limit(1)
        ).scalar_one()
    with TestClient(create_app(services_kernel, settings)):
        serving = runtime_of(services_kernel)
        serving.apply_events([StatusEvent(code=code, status="releasing", at=clock.now)])  # type: ignore[arg-type]
        with serving.engine.connect() as conn:
            assert restore(conn, KINDS)[0] is None  # the stored snapshot misses the event (30 s rule)
    # The server stopped: the services domain's `stop` saved the index with the event in it.
    again = restarted(serving, clock)
    assert again.last_rebuild.source == "snapshot"
    assert again.accumulator.state() == serving.accumulator.state()
