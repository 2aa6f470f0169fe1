"""The accounting path: FreeRADIUS appends each accounting packet to a `detail` file in the spool and
acknowledges it once written (its own "buffered-sql" pattern); this reader stores the files' records in
`wifi_sessions`.

Files are `<stream>-YYYYMMDDHH` (`detail-...` from FreeRADIUS, `simulated-...` from the demo's
simulator), a new one each hour; each stream is read in order of its files. Records are read in batches,
stored in one transaction per batch together with the file offset they end at (`wifi_detail_offsets`),
so a crash neither loses nor counts twice a record: a restart resumes at the committed offset. A record
is complete once its closing blank line is there; an incomplete one is left for the next look. A file
with a newer one of its stream after it, read to its end and quiet for `SETTLE_MS`, is removed.

A record that is not a detail record, or not a packet accounting handles, or from a NAS cityops does
not know, is refused alone: logged with its file, offset and the attribute at fault (never a value that
may be personal), copied to `<spool>/refused/` for the operator, and passed over.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from cityops.core.store import write_transaction
from cityops.wifi.accounting import Accounted, Batch, Packet
from cityops.wifi.attributes import GIGAWORD, RadiusRequest, RequestError
from cityops.wifi.detail_format import (
    Chunk,
    DetailError,
    DetailRecord,
    complete_records,
    decode,
    format_record,
)
from cityops.wifi.privacy import PersonalData
from cityops.wifi.schema import detail_offsets

log = logging.getLogger(__name__)
SPOOL_FILE = re.compile(r"(?P<stream>[a-z]+)-(?P<stamp>\d{10})")
MAX_BATCH = 5000
MAX_READ_BYTES = 8 * 1024 * 1024
SETTLE_MS = 60_000
PERSONAL_ATTRIBUTES = frozenset({"User-Name", "Calling-Station-Id", "Framed-IP-Address"})


@dataclass(frozen=True)
class SpoolFile:
    path: Path
    stream: str
    stamp: str


@dataclass
class Totals:
    """What the reader did since it started (the benchmark and `/api/wifi/...` figures read it)."""

    stored: int = 0
    refused: int = 0
    batches: int = 0


def store_error(exc: BaseException) -> str:
    """An error's kind and first line, without SQLAlchemy's statement parameters (they may hold a MAC)."""
    if isinstance(exc, DBAPIError):
        first = str(exc.orig).splitlines()[0] if str(exc.orig) else ""
        return f"{type(exc.orig).__name__}: {first[:200]}"
    return type(exc).__name__


def refusal(exc: DetailError | RequestError) -> str:
    if isinstance(exc, DetailError):
        return f"not a detail record ({exc})"
    if exc.attribute in PERSONAL_ATTRIBUTES:
        return f"{exc.attribute}: refused"
    return f"{exc.attribute}: {exc.message}"


class DetailReader:
    def __init__(
        self,
        engine: Engine,
        spool: Path,
        personal: PersonalData,
        interim_seconds: int,
        clock: Callable[[], int],
        poll_seconds: float = 0.2,
    ) -> None:
        self.engine = engine
        self.spool = spool
        self.personal = personal
        self.interim_seconds = interim_seconds
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.totals = Totals()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="wifi-detail-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        busy = False
        while not self._stopping.wait(0 if busy else self.poll_seconds):
            try:
                busy = self.drain(MAX_BATCH) > 0
            except SQLAlchemyError as exc:  # the store is busy or gone: the records stay in the spool
                log.error("wifi detail reader: %s; trying again", store_error(exc))
                busy = False
            except Exception:  # a bug: it must not stop accounting for good
                log.exception("wifi detail reader failed; trying again")
                busy = False

    def drain(self, limit: int | None = None) -> int:
        """Store what the spool holds now (at most about `limit` records); returns how many were read."""
        done = 0
        with self._lock:
            while limit is None or done < limit:
                step = self._step()
                if step == 0:
                    return done
                done += step
        return done

    def files(self) -> list[SpoolFile]:
        found = []
        try:
            entries = list(os.scandir(self.spool))
        except FileNotFoundError:
            return []
        for entry in entries:
            match = SPOOL_FILE.fullmatch(entry.name)
            if match and entry.is_file(follow_symlinks=False):
                found.append(SpoolFile(Path(entry.path), match["stream"], match["stamp"]))
        return sorted(found, key=lambda f: (f.stamp, f.stream))

    def _step(self) -> int:
        """One batch from the first file with something new; 0 when there is nothing."""
        files = self.files()
        with self.engine.connect() as conn:
            offsets = {row.file: row.offset for row in conn.execute(select(detail_offsets))}
        for spool_file in files:
            name = spool_file.path.name
            offset = offsets.get(name, 0)
            with spool_file.path.open("rb") as handle:
                handle.seek(offset)
                data = handle.read(MAX_READ_BYTES)
            chunks = complete_records(data, offset)[:MAX_BATCH]
            if chunks:
                return self._store(name, offset, chunks)
            if self._finished(spool_file, files):
                if data:
                    log.error(
                        "wifi detail reader: %s ends in an incomplete record (%d bytes)", name, len(data)
                    )
                self._remove(spool_file)
        return 0

    def _finished(self, spool_file: SpoolFile, files: list[SpoolFile]) -> bool:
        newer = any(f.stream == spool_file.stream and f.stamp > spool_file.stamp for f in files)
        if not newer:
            return False
        return time.time() * 1000 - spool_file.path.stat().st_mtime * 1000 > SETTLE_MS

    def _remove(self, spool_file: SpoolFile) -> None:
        spool_file.path.unlink(missing_ok=True)
        with write_transaction(self.engine) as conn:
            conn.execute(detail_offsets.delete().where(detail_offsets.c.file == spool_file.path.name))

    def _store(self, name: str, offset: int, chunks: list[Chunk]) -> int:
        items: list[tuple[Chunk, Accounted]] = []
        for chunk in chunks:
            try:
                items.append((chunk, accounted(chunk)))
            except (DetailError, RequestError) as exc:
                self._refuse(name, chunk, refusal(exc))
        try:
            self._commit(name, offset, chunks[-1].end, items, alone=False)
        except OperationalError:
            raise  # the store is busy or gone: all of it is read again
        except SQLAlchemyError as exc:  # one record the store refuses: find it, store the others
            log.warning(
                "wifi detail reader: batch of %s refused (%s); storing one by one", name, store_error(exc)
            )
            self._commit(name, offset, chunks[-1].end, items, alone=True)
        self.totals.batches += 1
        return len(chunks)

    def _commit(
        self, name: str, offset: int, end: int, items: list[tuple[Chunk, Accounted]], alone: bool
    ) -> None:
        refused: list[tuple[Chunk, str]] = []
        stored = 0
        with write_transaction(self.engine) as conn:
            committed = conn.execute(
                select(detail_offsets.c.offset).where(detail_offsets.c.file == name)
            ).scalar()
            if (committed or 0) != offset:
                return  # another reader stored these meanwhile
            if not alone:
                outcomes = Batch(conn, self.interim_seconds, self.personal).record([a for _, a in items])
                refused = [
                    (chunk, "unknown NAS") for (chunk, _), o in zip(items, outcomes, strict=True) if o is None
                ]
                stored = len(items) - len(refused)
            else:
                for chunk, item in items:
                    try:
                        with conn.begin_nested():
                            (outcome,) = Batch(conn, self.interim_seconds, self.personal).record([item])
                    except OperationalError:
                        raise
                    except SQLAlchemyError as exc:
                        refused.append((chunk, f"the store refused it ({store_error(exc)})"))
                        continue
                    if outcome is None:
                        refused.append((chunk, "unknown NAS"))
                    else:
                        stored += 1
            save_offset(conn, name, committed, end, self.clock())
        self.totals.stored += stored
        for chunk, reason in refused:
            self._refuse(name, chunk, reason)

    def _refuse(self, name: str, chunk: Chunk, reason: str) -> None:
        self.totals.refused += 1
        log.warning("wifi accounting record %s@%d refused: %s", name, chunk.start, reason)
        folder = self.spool / "refused"
        folder.mkdir(exist_ok=True, mode=0o700)
        descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "ab") as handle:
            handle.write(chunk.text + b"\n\n")


def save_offset(conn: Connection, name: str, committed: int | None, end: int, now_ms: int) -> None:
    if committed is None:
        conn.execute(insert(detail_offsets).values(file=name, offset=end, updated_ms=now_ms))
    else:
        conn.execute(
            update(detail_offsets).where(detail_offsets.c.file == name).values(offset=end, updated_ms=now_ms)
        )


def accounted(chunk: Chunk) -> Accounted:
    """A detail record as a packet to store: the NAS FreeRADIUS named, the time it received the packet."""
    values = decode(chunk).first_values()
    request = RadiusRequest(values)
    received_s = request.integer("Timestamp", -1)
    if received_s < 0:
        raise RequestError("Timestamp", "is missing (FreeRADIUS writes when it received the packet)")
    return Accounted(values.get("FreeRADIUS-Client-Shortname"), Packet.parse(request), received_s * 1000)


def append_to_spool(spool: Path, stream: str, records: list[DetailRecord], now_ms: int) -> Path:
    """Append records as a writer of `stream` (the demo's simulator, tests) would; FreeRADIUS writes its
    own. One write, so the reader never sees half of it; returns the file."""
    path = spool / f"{stream}-{time.strftime('%Y%m%d%H', time.gmtime(now_ms // 1000))}"
    text = "".join(
        format_record(record, frozenset(name for name, value in record.attributes if not value.isdigit()))
        for record in records
    )
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "ab") as handle:
        handle.write(text.encode())
    return path


def packet_record(nas_name: str, packet: Packet, received_ms: int) -> DetailRecord:
    """A packet as FreeRADIUS's detail file holds it."""
    attributes = [
        ("Acct-Status-Type", packet.status),
        ("Acct-Session-Id", packet.session_id),
        ("User-Name", packet.username),
        ("Calling-Station-Id", packet.calling_station),
        ("Called-Station-Id", packet.called_station),
        ("Acct-Session-Time", str(packet.session_seconds)),
        ("Acct-Input-Octets", str(packet.input_bytes % GIGAWORD)),
        ("Acct-Input-Gigawords", str(packet.input_bytes // GIGAWORD)),
        ("Acct-Output-Octets", str(packet.output_bytes % GIGAWORD)),
        ("Acct-Output-Gigawords", str(packet.output_bytes // GIGAWORD)),
        ("Acct-Terminate-Cause", packet.terminate_cause),
        ("Acct-Delay-Time", str(packet.delay_seconds)),
        ("Acct-Interim-Interval", None if packet.interim_seconds is None else str(packet.interim_seconds)),
        ("FreeRADIUS-Client-Shortname", nas_name),
        ("Timestamp", str(received_ms // 1000)),
    ]
    header = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(received_ms // 1000))
    return DetailRecord(header, tuple((name, value) for name, value in attributes if value is not None))
