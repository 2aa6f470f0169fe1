"""Preparing a large file in other processes while this one writes.

Parsing and checking a row costs about twice what storing it does, and the GIL keeps one process to one
core; so for a large file worker processes read and prepare the chunks (`importing.prepare`) and hand
them over bounded queues, while this process writes them in order in the file's one transaction. With
several workers each reads the whole file but prepares only every n-th chunk (reading is the cheap part);
this process takes the chunks back in order. The result is the same as preparing here: the same function
runs on the same context, only elsewhere.

The workers are started once (a process starts in about a second) and kept for the next files; one that
stops, or an import abandoned half-way, has them started afresh next time.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from cityops.services.importing.arrow_rows import NotColumnar, read_blocks
from cityops.services.importing.bulk import ImportContext, Prepared, RowProblem, prepare, prepare_block
from cityops.services.importing.readers import CHUNK_ROWS, FileFormatError, Format, read

PARALLEL_MIN_BYTES = 8 * 1024 * 1024  # smaller files are done before a worker has started
MAX_WORKERS = 4  # beyond that the writing process is the bottleneck
_POLL_SECONDS = 1.0
_DONE = "done"
_NOT_COLUMNAR = "not columnar"


def worker_count() -> int:
    """Cores left once this process writes (0 on a single core)."""
    return max(0, min(MAX_WORKERS, (os.cpu_count() or 1) - 1))


def worth_a_worker(path: Path) -> bool:
    return worker_count() > 0 and path.stat().st_size >= PARALLEL_MIN_BYTES


class _Worker:
    def __init__(self) -> None:
        spawn = multiprocessing.get_context("spawn")  # no fork: the server runs threads
        self.tasks: Any = spawn.Queue()
        self.results: Any = spawn.Queue(maxsize=3)
        self.process = spawn.Process(target=_serve, args=(self.tasks, self.results), daemon=True)
        self.process.start()

    def next(self) -> Any:
        while True:
            try:
                return self.results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not self.process.is_alive():
                    raise RuntimeError(
                        f"an import worker stopped (exit code {self.process.exitcode})"
                    ) from None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.tasks.close()
        self.results.close()


class ImportWorkers:
    """The worker processes of one services runtime: started for the first large file, kept for the next
    ones, stopped with the runtime (`ServicesRuntime.close`)."""

    def __init__(self) -> None:
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()  # one import at a time uses the workers

    def prepared(
        self,
        context: ImportContext,
        format: Format,
        path: Path,
        workers: int | None = None,
        chunk_rows: int | None = None,
        columnar: bool = False,
    ) -> Generator[Prepared, None, None]:
        """The file's prepared chunks, in order. A file the reader cannot read ends with a prepared chunk
        carrying that one problem. `columnar`: a CSV file is read by Arrow (`arrow_rows`), and `NotColumnar`
        is raised, possibly after some chunks, if it cannot be. Close the iterator when done with it
        (`contextlib.closing`): it holds the workers until then."""
        count = workers or max(1, worker_count())
        with self._lock:
            pool = self._pool(count)
            for index, worker in enumerate(pool):
                task = (context, format, str(path), chunk_rows or CHUNK_ROWS, index, count, columnar)
                worker.tasks.put(task)
            finished = False
            try:
                chunk = 0
                while True:
                    item = pool[chunk % count].next()
                    if item == _DONE:
                        break
                    if item == _NOT_COLUMNAR:
                        raise NotColumnar(path.name)
                    yield item
                    chunk += 1
                for later in range(chunk + 1, chunk + count):  # the others end their share too
                    if pool[later % count].next() != _DONE:
                        raise RuntimeError("an import worker sent more chunks than the file has")
                finished = True
            finally:
                if not finished:  # abandoned half-way (a faulty row): their queues hold the rest
                    self._stop_all()

    def stop(self) -> None:
        with self._lock:
            self._stop_all()

    def _pool(self, count: int) -> list[_Worker]:
        if len(self._workers) != count or not all(w.process.is_alive() for w in self._workers):
            self._stop_all()
            self._workers.extend(_Worker() for _ in range(count))
        return self._workers

    def _stop_all(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers.clear()

    @property
    def running(self) -> int:
        return sum(worker.process.is_alive() for worker in self._workers)


def _serve(tasks: Any, results: Any) -> None:
    while (task := tasks.get()) is not None:
        context, format, path, chunk_rows, index, count, columnar = task
        _prepare_share(context, format, path, chunk_rows, (index, count), columnar, results)


def _prepare_share(
    context: ImportContext,
    format: Format,
    path: str,
    chunk_rows: int,
    share: tuple[int, int],
    columnar: bool,
    results: Any,
) -> None:
    """Prepare chunks index, index + count, index + 2 count... of the file, then say done."""
    index, count = share
    try:
        with open(path, "rb") as stream:
            if columnar and format == "csv":
                for number, block in enumerate(read_blocks(stream)):
                    if number % count == index:
                        results.put(prepare_block(context, block))
            else:
                for number, chunk in enumerate(read(format, stream, chunk_rows)):
                    if number % count == index:
                        results.put(prepare(context, chunk))
    except FileFormatError as error:
        results.put((0, [], [], [], [RowProblem(error.row, None, error.field, error.message)], None))
    except NotColumnar:
        results.put(_NOT_COLUMNAR)
        return
    results.put(_DONE)
