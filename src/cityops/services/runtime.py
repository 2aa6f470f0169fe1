"""The services domain at run time, one per store: catalogue, working calendar, areas and the index
accumulator, kept in step with the tables by every import, event batch and catalogue change.

Writers (imports, events, catalogue and calendar changes) take turns; each commits its transaction and
only then hands its changes to the accumulator. Readers hold the accumulator's lock for the few
microseconds a read takes. At start the accumulator is rebuilt from the stored dossiers
(`rebuild`, the "full recomputation" the benchmark times); afterwards it is only ever updated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

from sqlalchemy import Connection, Engine, func, select

from cityops.core.events import Event
from cityops.core.store import write_transaction
from cityops.services.catalogue import Agency, Catalogue, Procedure
from cityops.services.dossiers.events import EventsReport, RatingEvent, apply_events
from cityops.services.dossiers.lifecycle import StatusEvent
from cityops.services.importing.arrow_rows import NotColumnar, read_blocks
from cityops.services.importing.bulk import (
    ImportContext,
    ImportReport,
    Prepared,
    facts_for_new,
    import_prepared,
    prepare,
    prepare_block,
)
from cityops.services.importing.readers import Chunk, Format, read
from cityops.services.importing.workers import ImportWorkers, worth_a_worker
from cityops.services.index.accumulator import IndexAccumulator
from cityops.services.index.accumulator_batch import add_columns
from cityops.services.index.snapshots import (
    StoreMark,
    bump_generation,
    current_generation,
    restore,
    save,
    store_mark,
)
from cityops.services.localities import AreaBook
from cityops.services.schema import dossiers
from cityops.services.store import (
    all_records,
    effective_overrides,
    load_catalogue,
    replace_overrides,
    save_agencies,
    save_procedures,
)
from cityops.services.timing.calendar import DayOverride, WorkingCalendar
from cityops.services.timing.due_dates import DueDateArrays
from cityops.services.timing.periods import PeriodKind, from_timestamp

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

Clock = Callable[[], int]  # epoch seconds
KINDS: tuple[PeriodKind, ...] = ("year", "quarter", "month")


def wall_clock() -> int:
    return int(time.time())


@dataclass(frozen=True, slots=True)
class DossiersChanged(Event):
    """Dossiers were imported or changed by events (`source`: import, events, ratings)."""

    subject: ClassVar[str] = "services"

    source: str
    changed: int


@dataclass(frozen=True, slots=True)
class Rebuilt:
    dossiers: int
    seconds: float
    source: str = "dossiers"  # or "snapshot"


SNAPSHOT_EVERY_S = 30.0  # at most this often after event batches (every import takes one)
STORE_CHECK_EVERY_S = 1.0  # a read looks this often whether another server changed the dossiers


class ServicesRuntime:
    def __init__(self, engine: Engine, clock: Clock = wall_clock, simulated: bool = False) -> None:
        self.engine = engine
        self.clock = clock
        self.simulated = simulated
        self.lock = threading.RLock()  # the accumulator
        self.write_lock = threading.Lock()  # one writer at a time
        with engine.connect() as conn:
            self.area_book = AreaBook.load(conn)
            self.catalogue = load_catalogue(conn)
            self.calendar = WorkingCalendar(effective_overrides(conn))
        year = from_timestamp(clock()).year
        self.due_arrays = DueDateArrays(self.calendar, year - 1, year + 1)
        self.accumulator = IndexAccumulator(from_timestamp(clock()), KINDS)
        self._mark: StoreMark | None = None  # what the accumulator holds; None: unknown, no snapshots
        self._saved_at = 0.0
        self._seen_generation = -1  # the store's dossier generation the accumulator reflects
        self._checked_at = 0.0
        self._written_generation = -1  # set by `_next_mark`, taken by `_saw_own_write` after the commit
        self.import_workers = ImportWorkers()
        self.last_rebuild = self.start()

    # -- time ---------------------------------------------------------------------------------------------

    def now_s(self) -> int:
        return self.clock()

    def advance(self) -> None:
        """Move the accumulator's clock to now (open dossiers turn due soon, then overdue)."""
        now = from_timestamp(self.now_s())
        with self.lock:
            if now > self.accumulator.clock:
                self.accumulator.advance(now)

    @contextmanager
    def reading(self) -> Iterator[IndexAccumulator]:
        self.follow_store()
        self.advance()
        with self.lock:
            yield self.accumulator

    def follow_store(self) -> bool:
        """Rebuild the accumulator when another process (another API server) changed the dossiers since
        it was made; checked at most every `STORE_CHECK_EVERY_S`. True when it rebuilt."""
        if time.monotonic() - self._checked_at < STORE_CHECK_EVERY_S:
            return False
        self._checked_at = time.monotonic()
        with self.engine.connect() as conn:
            stored = current_generation(conn)
        if stored == self._seen_generation:
            return False
        with self.write_lock:
            self.rebuild()
        return True

    # -- writing ------------------------------------------------------------------------------------------

    def context(self) -> ImportContext:
        return ImportContext(self.catalogue, self.calendar, self.area_book, self.now_s(), self.due_arrays)

    def import_file(self, format: Format, stream: IO[bytes], source: str) -> ImportReport:
        """Import one file, all or nothing (`DossierImportError` when refused). A CSV file is read by
        Arrow when it can be (`arrow_rows`), otherwise by `readers`."""
        if format == "csv" and stream.seekable():
            start = stream.tell()
            try:
                with self.write_lock:
                    context = self.context()
                    prepared = (prepare_block(context, block) for block in read_blocks(stream))
                    return self._import_prepared(context, prepared, source, format)
            except NotColumnar:
                stream.seek(start)
        return self.import_chunks(read(format, stream), source, format)

    def import_path(self, format: Format, path: Path, source: str) -> ImportReport:
        """`import_file` for a file on disk; a large one is read and checked by a worker process while this
        one writes."""
        if not worth_a_worker(path):
            with path.open("rb") as stream:
                return self.import_file(format, stream, source)
        if format == "csv":
            try:
                return self._import_in_workers(format, path, source, columnar=True)
            except NotColumnar:
                pass
        return self._import_in_workers(format, path, source, columnar=False)

    def _import_in_workers(self, format: Format, path: Path, source: str, columnar: bool) -> ImportReport:
        with self.write_lock:
            context = self.context()
            with closing(self.import_workers.prepared(context, format, path, columnar=columnar)) as prepared:
                return self._import_prepared(context, prepared, source, format)

    def _import_prepared(
        self, context: ImportContext, prepared: Iterable[Prepared], source: str, format: str
    ) -> ImportReport:
        """Write the prepared chunks in one transaction, then hand the changes to the accumulator (the
        caller holds the write lock)."""
        with write_transaction(self.engine) as conn:
            report, staged = import_prepared(conn, context, prepared, source, format)
            mark = self._next_mark(conn, report.inserted)
        with self.lock:
            staged.apply(self.accumulator)
        self._mark = mark
        self._saw_own_write()
        self._save_snapshot()
        return report

    def import_chunks(self, chunks: Iterable[Chunk], source: str, format: str) -> ImportReport:
        with self.write_lock:
            context = self.context()
            return self._import_prepared(
                context, (prepare(context, chunk) for chunk in chunks), source, format
            )

    def apply_events(
        self, events: Sequence[StatusEvent | RatingEvent], source: str = "events"
    ) -> EventsReport:
        """Apply status events and ratings, all or nothing (`EventsRefused` when refused)."""
        with self.write_lock:
            with write_transaction(self.engine) as conn:
                report, updates = apply_events(conn, self.context(), events, source)
                mark = self._next_mark(conn, 0)
            with self.lock:
                for old, new in updates:
                    self.accumulator.update(old, new)
            self._mark = mark
            self._saw_own_write()
            if time.monotonic() - self._saved_at >= SNAPSHOT_EVERY_S:
                self._save_snapshot()
        return report

    def save_catalogue(
        self, procedures: Sequence[Procedure] = (), agencies: Sequence[Agency] = ()
    ) -> Catalogue:
        """Add or replace procedures and agency versions; the whole catalogue is checked before it is
        stored (a duplicate or overlapping version refuses the change)."""
        with self.write_lock:
            with write_transaction(self.engine) as conn:
                save_procedures(conn, procedures)
                save_agencies(conn, agencies)
                catalogue = load_catalogue(conn)
            self.catalogue = catalogue
        return catalogue

    def save_overrides(self, overrides: Sequence[DayOverride]) -> None:
        """Replace the calendar's swapped days. Due dates already stored stay as they are (the source's,
        or the calendar's of the day they were computed); new ones follow the new table."""
        calendar = WorkingCalendar(overrides)
        with self.write_lock:
            with write_transaction(self.engine) as conn:
                replace_overrides(conn, overrides)
            self.calendar = calendar
            year = from_timestamp(self.now_s()).year
            self.due_arrays = DueDateArrays(calendar, year - 1, year + 1)

    # -- rebuilding ---------------------------------------------------------------------------------------

    def start(self) -> Rebuilt:
        """The accumulator from its snapshot when that is still valid, else recomputed (and saved)."""
        started = time.perf_counter()
        with self.engine.connect() as conn:
            restored, _ = restore(conn, KINDS)
            mark = store_mark(conn)
        if restored is None:
            rebuilt = self.rebuild()
            with self.write_lock:
                self._save_snapshot()
            return rebuilt
        now = from_timestamp(self.now_s())
        if now > restored.clock:
            restored.advance(now)
        with self.lock:
            self.accumulator = restored
        self._mark = mark
        self._seen_generation = mark.generation
        return Rebuilt(mark.dossiers, time.perf_counter() - started, "snapshot")

    def rebuild(self) -> Rebuilt:
        """Recompute the accumulator from every stored dossier."""
        started = time.perf_counter()
        fresh = IndexAccumulator(from_timestamp(self.now_s()), KINDS)
        count = 0
        with self.engine.connect() as conn:
            mark = store_mark(conn)  # the same read transaction as the dossiers
            for batch in all_records(conn):
                columns, others = facts_for_new(batch)
                add_columns(fresh, columns)
                for facts in others:
                    fresh.update(None, facts)
                count += len(batch)
        with self.lock:
            self.accumulator = fresh
        self._mark = mark
        self._seen_generation = mark.generation
        return Rebuilt(count, time.perf_counter() - started, "dossiers")

    def save_snapshot(self) -> bool:
        """Store the accumulator's state now (e.g. when the server stops); False when its state is not
        known to match the stored dossiers (another process wrote them)."""
        with self.write_lock:
            return self._save_snapshot()

    def close(self) -> None:
        """Stop the import worker processes (the index stays as it is; `save_snapshot` stores it)."""
        self.import_workers.stop()

    def _save_snapshot(self) -> bool:
        """(the caller holds the write lock)"""
        mark = self._mark
        if mark is None:
            return False
        with write_transaction(self.engine) as conn, self.lock:
            state = self.accumulator
            save(conn, state, mark, self.now_s() * 1000)
        self._saved_at = time.monotonic()
        return True

    def _next_mark(self, conn: Connection, inserted: int) -> StoreMark | None:
        """The mark after this transaction's change (None if another process changed dossiers too)."""
        generation = bump_generation(conn)
        self._written_generation = generation
        mark = self._mark
        if mark is None or generation != mark.generation + 1:
            return None
        last_id = conn.execute(select(func.max(dossiers.c.id))).scalar() or 0
        return StoreMark(generation, mark.dossiers + inserted, int(last_id))

    def _saw_own_write(self) -> None:
        """(after a committed write) The accumulator now reflects the store only when no other process
        changed the dossiers in between; otherwise the next read rebuilds it."""
        if self._written_generation == self._seen_generation + 1:
            self._seen_generation = self._written_generation

    def dossier_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(dossiers)).scalar_one())


def open_runtime(kernel: Kernel) -> ServicesRuntime:
    """The domain's `setup`: the runtime on the kernel's store and clock."""
    return ServicesRuntime(kernel.engine, lambda: kernel.now_ms() // 1000, simulated=kernel.simulated)


def stop_runtime(_kernel: Kernel, runtime: ServicesRuntime) -> None:
    """The domain's `stop`: save the index so the next start reads it back instead of rebuilding it, and
    stop the import workers."""
    runtime.save_snapshot()
    runtime.close()


def runtime_of(kernel: Kernel) -> ServicesRuntime:
    """The running domain's runtime (set up by the kernel, or put in `kernel.states` by a test)."""
    runtime = kernel.states.get("services")
    if not isinstance(runtime, ServicesRuntime):
        raise RuntimeError("the services domain is not set up on this kernel")
    return runtime
