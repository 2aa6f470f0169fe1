"""A large file prepared by worker processes is imported exactly as when prepared here, errors included."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cityops.services.importing import workers as import_workers
from cityops.services.importing.bulk import DossierImportError
from cityops.services.runtime import ServicesRuntime

from .conftest import csv_bytes, dossier_row


def test_workers_prepare_what_this_process_would(
    runtime: ServicesRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [dossier_row(code=f"H57.S01-250303-{n:04d}") for n in range(1, 301)]
    rows[150]["channel"] = "9"  # a faulty row in the middle chunk
    path = tmp_path / "march.csv"
    path.write_bytes(csv_bytes(rows))
    monkeypatch.setattr(import_workers, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(import_workers, "worker_count", lambda: 2)
    monkeypatch.setattr(import_workers, "CHUNK_ROWS", 100)  # three chunks, shared by two workers
    with pytest.raises(DossierImportError) as refused:
        runtime.import_path("csv", path, "march.csv")
    assert [(p.row, p.field) for p in refused.value.problems] == [(151, "channel")]
    rows[150]["channel"] = "1"
    path.write_bytes(csv_bytes(rows))
    report = runtime.import_path("csv", path, "march.csv")
    assert (report.rows, report.inserted) == (300, 300)
    state = runtime.accumulator.state()
    again = runtime.import_file("csv", io.BytesIO(path.read_bytes()), "march.csv")
    assert again.unchanged == 300 and runtime.accumulator.state() == state
    assert runtime.import_workers.running == 2  # kept for the next file...
    runtime.close()
    assert runtime.import_workers.running == 0  # ...until the runtime stops
