"""Two API servers on one store each hold an index accumulator: a dossier written through one is in the
other's index on its next read (it sees the store's dossier generation move and recomputes)."""

from __future__ import annotations

from typing import Any

import pytest

from cityops.services import runtime as runtime_module
from cityops.services.dossiers.lifecycle import StatusEvent
from cityops.services.importing.readers import Chunk
from cityops.services.runtime import ServicesRuntime
from cityops.services.schema import dossiers

from .conftest import Clock


@pytest.fixture
def check_every_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_module, "STORE_CHECK_EVERY_S", 0.0)


def state_read(runtime: ServicesRuntime) -> Any:
    with runtime.reading() as accumulator:
        return accumulator.state()


def test_a_write_on_one_server_is_in_the_other_servers_index(
    runtime: ServicesRuntime,
    demo_2025: list[Chunk],
    demo_province: Any,
    clock: Clock,
    check_every_read: None,
) -> None:
    runtime.save_catalogue(demo_province.procedures, demo_province.agencies)
    other = ServicesRuntime(runtime.engine, clock.seconds)  # catalogue edits do not travel yet
    for month, chunk in enumerate(demo_2025[:-2]):
        runtime.import_chunks([chunk], f"part {month}", "csv")
    assert state_read(other) == state_read(runtime)
    assert state_read(other)[1]  # not trivially equal

    with runtime.engine.connect() as conn:
        code = conn.execute(
            dossiers.select().with_only_columns(dossiers.c.code).where(dossiers.c.status == 4).limit(1)
        ).scalar_one()
    before = state_read(other)
    runtime.apply_events([StatusEvent(code=code, status="releasing", at=clock.now)])  # type: ignore[arg-type]
    after = state_read(other)
    assert after != before
    assert after == state_read(runtime)

    # Writes interleaved on both: each server's own write does not hide the other's.
    other.import_chunks([demo_2025[-2]], "part 10", "csv")
    runtime.import_chunks([demo_2025[-1]], "part 11", "csv")
    assert state_read(runtime) == state_read(other)
    fresh = ServicesRuntime(runtime.engine, clock.seconds)
    fresh.rebuild()
    assert state_read(fresh) == state_read(runtime)


def test_reads_without_a_change_elsewhere_do_not_recompute(
    runtime: ServicesRuntime, demo_2025: list[Chunk], demo_province: Any, check_every_read: None
) -> None:
    runtime.save_catalogue(demo_province.procedures, demo_province.agencies)
    runtime.import_chunks([demo_2025[0]], "part 0", "csv")
    assert not runtime.follow_store()
