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
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

from sqlalchemy import Engine, func, select

from cityops.core.events import Event
from cityops.services.accumulator import IndexAccumulator
from cityops.services.accumulator_batch import add_columns
from cityops.services.calendar import DayOverride, WorkingCalendar
from cityops.services.catalogue import Agency, Catalogue, Procedure
from cityops.services.due_dates import DueDateArrays
from cityops.services.events import EventsReport, RatingEvent, apply_events
from cityops.services.import_workers import prepared_in_workers, worth_a_worker
from cityops.services.importing import (
    ImportContext,
    ImportReport,
    facts_for_new,
    import_chunks,
    import_prepared,
)
from cityops.services.lifecycle import StatusEvent
from cityops.services.localities import AreaBook
from cityops.services.periods import PeriodKind, from_timestamp
from cityops.services.readers import Chunk, Format, read
from cityops.services.schema import dossiers
from cityops.services.store import (
    all_records,
    effective_overrides,
    load_catalogue,
    replace_overrides,
    save_agencies,
    save_procedures,
    take_write_lock,
)

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
        self.last_rebuild = self.rebuild()

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
        self.advance()
        with self.lock:
            yield self.accumulator

    # -- writing ------------------------------------------------------------------------------------------

    def context(self) -> ImportContext:
        return ImportContext(self.catalogue, self.calendar, self.area_book, self.now_s(), self.due_arrays)

    def import_file(self, format: Format, stream: IO[bytes], source: str) -> ImportReport:
        """Import one file, all or nothing (`DossierImportError` when refused)."""
        return self.import_chunks(read(format, stream), source, format)

    def import_path(self, format: Format, path: Path, source: str) -> ImportReport:
        """`import_file` for a file on disk; a large one is read and checked by a worker process while this
        one writes."""
        if not worth_a_worker(path):
            with path.open("rb") as stream:
                return self.import_file(format, stream, source)
        with self.write_lock:
            context = self.context()
            with self.engine.begin() as conn, closing(prepared_in_workers(context, format, path)) as prepared:
                report, staged = import_prepared(conn, context, prepared, source, format)
            with self.lock:
                staged.apply(self.accumulator)
        return report

    def import_chunks(self, chunks: Iterable[Chunk], source: str, format: str) -> ImportReport:
        with self.write_lock:
            with self.engine.begin() as conn:  # its first statement writes: no deferred-lock trap
                report, staged = import_chunks(conn, self.context(), chunks, source, format)
            with self.lock:
                staged.apply(self.accumulator)
        return report

    def apply_events(
        self, events: Sequence[StatusEvent | RatingEvent], source: str = "events"
    ) -> EventsReport:
        """Apply status events and ratings, all or nothing (`EventsRefused` when refused)."""
        with self.write_lock:
            with self.engine.begin() as conn:
                take_write_lock(conn)
                report, updates = apply_events(conn, self.context(), events, source)
            with self.lock:
                for old, new in updates:
                    self.accumulator.update(old, new)
        return report

    def save_catalogue(
        self, procedures: Sequence[Procedure] = (), agencies: Sequence[Agency] = ()
    ) -> Catalogue:
        """Add or replace procedures and agency versions; the whole catalogue is checked before it is
        stored (a duplicate or overlapping version refuses the change)."""
        with self.write_lock:
            with self.engine.begin() as conn:
                take_write_lock(conn)
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
            with self.engine.begin() as conn:
                take_write_lock(conn)
                replace_overrides(conn, overrides)
            self.calendar = calendar
            year = from_timestamp(self.now_s()).year
            self.due_arrays = DueDateArrays(calendar, year - 1, year + 1)

    # -- rebuilding ---------------------------------------------------------------------------------------

    def rebuild(self) -> Rebuilt:
        """Recompute the accumulator from every stored dossier."""
        started = time.perf_counter()
        fresh = IndexAccumulator(from_timestamp(self.now_s()), KINDS)
        count = 0
        with self.engine.connect() as conn:
            for batch in all_records(conn):
                columns, others = facts_for_new(batch)
                add_columns(fresh, columns)
                for facts in others:
                    fresh.update(None, facts)
                count += len(batch)
        with self.lock:
            self.accumulator = fresh
        return Rebuilt(count, time.perf_counter() - started)

    def dossier_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(dossiers)).scalar_one())


_RUNTIMES: weakref.WeakKeyDictionary[Engine, ServicesRuntime] = weakref.WeakKeyDictionary()
_OPENING = threading.Lock()


def runtime_for(kernel: Kernel) -> ServicesRuntime:
    """The kernel's services runtime, opened on first use."""
    with _OPENING:
        runtime = _RUNTIMES.get(kernel.engine)
        if runtime is None:
            runtime = _RUNTIMES[kernel.engine] = ServicesRuntime(
                kernel.engine, lambda: kernel.now_ms() // 1000, simulated=kernel.simulated
            )
        return runtime


def runtime_of(engine: Engine) -> ServicesRuntime | None:
    """The runtime opened on `engine`, if any (indicator formulas read it)."""
    return _RUNTIMES.get(engine)


def install(engine: Engine, runtime: ServicesRuntime) -> None:
    """Use `runtime` for `engine` (tests and benchmarks with their own clock)."""
    with _OPENING:
        _RUNTIMES[engine] = runtime
