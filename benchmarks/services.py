"""Public services: bulk import of a province-year of dossiers, the Decision 766 index read after it, and a
full recomputation from the stored dossiers (embedded default, SQLite).

    .venv/bin/python benchmarks/services.py [--dossiers 5000000] [--year 2025] [--reads 300]
        [--serial-files 1] [--data DIR]

The year is SIMULATED (`cityops.services.demo.generator`, calibrated on Bình Dương; 5 M dossiers is ten times
its volume, a merged megacity's) and written once as twelve monthly CSV files under --data. Measures,
in one run:
  (a) import: the twelve files one after the other, each all or nothing, through `import_path` (worker
      processes read and check with Arrow, this process writes) — dossiers/s over the whole year; and the first
      --serial-files files again into a second store with everything in this process;
  (b) reading the province-year after the import: the full index (766 score, targets with year-end
      projection, trio) p50/p95/p99 over --reads reads; the locality ranking and the panel's data too;
  (c) a server start on the imported store (the accumulator read back from its snapshot), and the full
      recomputation of the accumulator from the stored dossiers (`rebuild`) it spares;
  (peer a) the same rows written by plain sqlite3 `executemany` into the same table (no parsing, no
      checks, no index maintenance in Python): the floor any SQLite-backed import pays;
  (peer b) the province-year's counts by rescanning the stored dossiers with one SQL aggregate — what a
      dashboard without the accumulator would run at every refresh.
Prints a JSON summary. Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from cityops.core.kernel import Kernel
from cityops.core.store import open_engine
from cityops.services.demo.generator import HEADER, DemoProvince
from cityops.services.importing.fast_rows import parse_table
from cityops.services.importing.workers import worker_count
from cityops.services.index.scoring import Reader, Scope
from cityops.services.localities import AreaBook
from cityops.services.runtime import ServicesRuntime
from cityops.services.store import INSERT_SQL
from cityops.services.timing.calendar import VN_TZ
from cityops.services.timing.periods import Period

REPO = Path(__file__).resolve().parent.parent


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 3)

    return {
        "p50_ms": at(0.5),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.mean(ordered) * 1000, 3),
    }


def new_store(folder: Path, name: str) -> tuple[str, Path]:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    Kernel.open(url, domain_names=["services"], node_modules=REPO / "node_modules").engine.dispose()
    return url, path


def year_files(data: Path, province: DemoProvince, year: int, total: int, until: datetime) -> list[Path]:
    folder = data / f"{year}-{total}"
    done = folder / "complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        province.write_csv(folder, year, total=total, until=until)
        done.write_text(f"{time.perf_counter() - started:.1f} s to generate\n")
    return sorted(folder.glob("dossiers-*.csv"))


def runtime_on(url: str, clock: int, province: DemoProvince) -> ServicesRuntime:
    runtime = ServicesRuntime(open_engine(url), lambda: clock)
    runtime.save_catalogue(province.procedures, province.agencies)
    return runtime


def import_year(runtime: ServicesRuntime, files: list[Path], parallel: bool) -> dict[str, Any]:
    per_file = []
    rows = 0
    started = time.perf_counter()
    for path in files:
        begun = time.perf_counter()
        if parallel:
            report = runtime.import_path("csv", path, path.name)
        else:
            with path.open("rb") as stream:
                report = runtime.import_file("csv", stream, path.name)
        per_file.append(report.rows / (time.perf_counter() - begun))
        rows += report.rows
    seconds = time.perf_counter() - started
    return {
        "dossiers": rows,
        "seconds": round(seconds, 1),
        "dossiers_per_second": round(rows / seconds),
        "per_file_median": round(statistics.median(per_file)),
    }


def reads(runtime: ServicesRuntime, year: int, count: int) -> dict[str, Any]:
    period = Period("year", year)
    now = datetime.fromtimestamp(runtime.now_s(), VN_TZ)
    timings: dict[str, list[float]] = {"index": [], "summary": [], "localities": [], "panel_data": []}
    index_value = None
    for _ in range(count):
        started = time.perf_counter()
        with runtime.reading() as accumulator:
            index_value = (
                Reader(accumulator, runtime.catalogue, runtime.area_book, now)
                .index(Scope("province"), period)
                .index
            )
        timings["index"].append(time.perf_counter() - started)
        started = time.perf_counter()
        with runtime.reading() as accumulator:
            Reader(accumulator, runtime.catalogue, runtime.area_book, now).summary(Scope("province"), period)
        timings["summary"].append(time.perf_counter() - started)
    for _ in range(max(10, count // 10)):
        started = time.perf_counter()
        with runtime.reading() as accumulator:
            reader = Reader(accumulator, runtime.catalogue, runtime.area_book, now)
            reader.ranking("locality", period)
        timings["localities"].append(time.perf_counter() - started)
        started = time.perf_counter()
        with runtime.reading() as accumulator:
            reader = Reader(accumulator, runtime.catalogue, runtime.area_book, now)
            reader.summary(Scope("province"), period)
            reader.ranking("locality", period)
            reader.ranking("agency", period)
            reader.trends(Scope("province"), year)
        timings["panel_data"].append(time.perf_counter() - started)
    return {"province_index": index_value} | {name: percentiles(values) for name, values in timings.items()}


def peer_insert(files: list[Path], folder: Path) -> dict[str, Any]:
    """Plain executemany of the already-parsed records into the same table: the store's floor."""
    _, path = new_store(folder, "peer.sqlite")
    records: list[tuple[Any, ...]] = []
    for file in files:
        with file.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.reader(stream))[1:]
        records += [r for r in parse_table(HEADER, rows) if r is not None]
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    connection.execute("BEGIN")
    for start in range(0, len(records), 50_000):
        connection.executemany(INSERT_SQL, records[start : start + 50_000])
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return {
        "dossiers": len(records),
        "seconds": round(seconds, 1),
        "dossiers_per_second": round(len(records) / seconds),
    }


RESCAN = """
SELECT count(*), sum(channel = 2), sum(channel = 3), sum(flags & 1 > 0), sum(flags & 32 > 0),
       sum(status IN (9, 10)), sum(status IN (9, 10) AND coalesce(finished_at, returned_at) / 86400 <= due_at / 86400),
       sum(status <= 6 AND status <> 3 AND due_at < :now), sum(rating >= 2), sum(rating IS NOT NULL)
FROM services_dossiers WHERE received_at >= :start AND received_at < :end
"""


def peer_rescan(path: Path, year: int, clock: int, count: int) -> dict[str, Any]:
    period = Period("year", year)
    connection = sqlite3.connect(path)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        connection.execute(RESCAN, {"now": clock, "start": period.start_ts, "end": period.end_ts}).fetchone()
        timings.append(time.perf_counter() - started)
    connection.close()
    return percentiles(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=5_000_000, help="dossiers in the whole year")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--until", default="12-20T10:00:00+07:00", help="month-dayThh:mm of the cut")
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--serial-files", type=int, default=1, help="files imported again, all in-process")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cityops-bench-services")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    options = parser.parse_args()

    until = datetime.fromisoformat(f"{options.year}-{options.until}")
    clock = int(until.timestamp())
    work = options.data / "stores"
    work.mkdir(parents=True, exist_ok=True)
    url, path = new_store(work, "services.sqlite")
    with open_engine(url).connect() as conn:
        area_book = AreaBook.load(conn)
    province = DemoProvince(area_book)
    files = year_files(options.data, province, options.year, options.dossiers, until)
    result: dict[str, Any] = {
        "machine": {
            "cores": os.cpu_count(),
            "import_workers": worker_count(),
            "load_before": os.getloadavg(),
        },
        "year": options.year,
        "cut": until.isoformat(),
        "files": len(files),
        "megabytes": round(sum(f.stat().st_size for f in files) / 1e6),
    }
    runtime = runtime_on(url, clock, province)
    result["import"] = import_year(runtime, files, parallel=True)
    result["reads_after_import"] = reads(runtime, options.year, options.reads)
    started = time.perf_counter()
    restarted = ServicesRuntime(open_engine(url), lambda: clock)
    result["start_from_snapshot"] = {
        "source": restarted.last_rebuild.source,
        "seconds": round(time.perf_counter() - started, 2),
        "same_state": restarted.accumulator.state() == runtime.accumulator.state(),
    }
    rebuilt = runtime.rebuild()
    result["full_recomputation"] = {
        "dossiers": rebuilt.dossiers,
        "seconds": round(rebuilt.seconds, 1),
        "dossiers_per_second": round(rebuilt.dossiers / rebuilt.seconds),
    }
    result["peer_rescan"] = peer_rescan(path, options.year, clock, max(3, options.reads // 50))
    if options.serial_files:
        serial_url, _ = new_store(work, "serial.sqlite")
        result["import_in_process"] = import_year(
            runtime_on(serial_url, clock, province), files[: options.serial_files], parallel=False
        )
    result["peer_insert"] = peer_insert(files[: max(1, options.serial_files)], work)
    result["machine"]["load_after"] = os.getloadavg()
    json.dump(result, sys.stdout, indent=2)
    print()
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
