"""One writer for accounting: packets from concurrent requests are stored together, one transaction per
batch (group commit), each packet in its own savepoint so a bad one fails alone.

With a transaction per request, SQLite writers queue on its lock through the busy handler, which sleeps
in growing steps rather than waking when the lock frees: 8 concurrent FreeRADIUS threads got ~65
packets/s. One writer thread draining a queue keeps the lock busy only with work. A request is answered
(and FreeRADIUS acknowledges the packet to the NAS) only once the batch holding it has committed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import Engine

from cityops.core.store import write_transaction
from cityops.wifi import accounting
from cityops.wifi.privacy import PersonalData

log = logging.getLogger(__name__)
MAX_BATCH = 1000


@dataclass(frozen=True)
class Job:
    nas_name: str | None
    packet: accounting.Packet
    done: Future[accounting.Outcome | None]


class AccountingWriter:
    def __init__(
        self, engine: Engine, personal: PersonalData, interim_seconds: int, clock: Callable[[], int]
    ) -> None:
        self._engine = engine
        self._personal = personal
        self._interim = interim_seconds
        self._clock = clock
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, nas_name: str | None, packet: accounting.Packet) -> Future[accounting.Outcome | None]:
        """The outcome once stored (None: unknown NAS); fails with the store's error."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wifi-accounting", daemon=True)
                self._thread.start()
        job = Job(nas_name, packet, Future())
        self._queue.put(job)
        return job.done

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._store(jobs)
                    return
                jobs.append(job)
            self._store(jobs)

    def _store(self, jobs: list[Job]) -> None:
        outcomes: list[tuple[Job, accounting.Outcome | BaseException | None]] = []
        try:
            with write_transaction(self._engine) as conn:
                known: dict[str | None, accounting.Nas | None] = {}
                now = self._clock()
                for job in jobs:
                    if job.nas_name not in known:
                        known[job.nas_name] = accounting.nas_of(conn, job.nas_name)
                    nas = known[job.nas_name]
                    if nas is None:
                        outcomes.append((job, None))
                        continue
                    try:
                        with conn.begin_nested():
                            outcome = accounting.record(
                                conn, nas, job.packet, now, self._interim, self._personal
                            )
                    except (
                        Exception
                    ) as exc:  # this packet alone fails; FreeRADIUS stays silent, the NAS resends
                        log.exception("accounting packet not stored")
                        outcomes.append((job, exc))
                        continue
                    outcomes.append((job, outcome))
        except Exception as exc:  # the batch did not commit: none of it is acknowledged
            for job in jobs:
                if not job.done.cancelled():
                    job.done.set_exception(exc)
            return
        for job, result in outcomes:
            if job.done.cancelled():  # the request went away (stored all the same; the NAS resends)
                continue
            if isinstance(result, BaseException):
                job.done.set_exception(result)
            else:
                job.done.set_result(result)
