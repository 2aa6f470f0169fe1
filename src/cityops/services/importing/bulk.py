"""Bulk import of dossiers: all or nothing per file, idempotent per dossier code.

A file is read in chunks (`readers`); each chunk is parsed (`fast_rows`, the `Dossier` model for the rest),
checked against the catalogue, the areas and the clock, its due dates computed with the working calendar
and compared with the source's (a difference is a finding, never an overwrite; a missing due date is
filled from the calendar and marked so), then written in the file's one transaction. Any faulty row
stops the import: nothing of the file is stored and the error names the row, the dossier and the field.

A dossier already stored (by code) is left alone when the row says the same, updated when the row is
newer, skipped as stale when the row's `status_at` is older than the stored one, and refused when the
change makes no sense (a finished dossier changing status, a dossier going back to `receiving`).
The index accumulator receives the changes only once the transaction has committed (`Staged.apply`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import Connection, insert

from cityops.services.catalogue import Catalogue, Procedure, UnknownAgencyError
from cityops.services.dossiers.classification import (
    COMPLAINED,
    DIGITISED,
    ELECTRONIC_RESULT,
    FEE,
    NATIONAL_STORE,
    ONLINE,
    ONLINE_FULL,
    ONLINE_PARTIAL,
    PAID_ONLINE,
    POSTAL,
    RATED,
    REUSED,
    SATISFIED,
    SYNCED,
    VNEID,
    DossierFacts,
)
from cityops.services.dossiers.lifecycle import Finding, compare_due, expected_due
from cityops.services.dossiers.model import DossierStatus
from cityops.services.dossiers.records import (
    FLAG_BITS,
    TIME_COLUMNS,
    C,
    Record,
    RowError,
    dossier_of,
    facts_of_record,
    parse_with_model,
)
from cityops.services.importing.arrow_rows import Block, parse_block
from cityops.services.importing.fast_rows import parse_table
from cityops.services.importing.readers import Chunk, FileFormatError
from cityops.services.index.accumulator import IndexAccumulator
from cityops.services.index.accumulator_batch import NONE, FactsColumns, add_columns, same_month
from cityops.services.localities import AreaBook, AreaRuleError
from cityops.services.schema import findings as findings_table
from cityops.services.schema import imports
from cityops.services.store import fetch_records, insert_new_records, insert_records, update_records
from cityops.services.timing.calendar import WorkingCalendar
from cityops.services.timing.due_dates import UNIT_CODES, DueDateArrays, Int64s, duration_seconds
from cityops.services.timing.periods import DAY_S, VN_OFFSET_S, from_timestamp

TERMINAL = frozenset((3, 7, 8, 10))
MAX_PROBLEMS = 50
FUTURE_SLACK_S = 3600  # clocks of the one-stop systems may run a little ahead
STORED_SEVERITIES = frozenset(("warning",))
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int | None
    code: str | None
    field: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "code": self.code, "field": self.field, "msg": self.message}


class DossierImportError(ValueError):
    """The file was refused: nothing of it was stored."""

    def __init__(self, problems: list[RowProblem]) -> None:
        shown = "; ".join(
            f"{'row ' + str(p.row) + ' ' if p.row else ''}{p.code or ''} {p.field}: {p.message}".strip()
            for p in problems[:5]
        )
        super().__init__(f"nothing was imported: {shown}")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ProcedureTerms:
    procedure: Procedure
    amount: int | None  # seconds of working time, or days, when whole (the array path), else None
    unit: int


@dataclass
class ImportContext:
    catalogue: Catalogue
    calendar: WorkingCalendar
    area_book: AreaBook
    now_s: int
    due_arrays: DueDateArrays
    terms: dict[str, ProcedureTerms] = field(default_factory=dict)
    _agency_ok: dict[tuple[str, int], str | None] = field(default_factory=dict)

    def procedure_terms(self, code: str) -> ProcedureTerms | None:
        found = self.terms.get(code)
        if found is None:
            try:
                procedure = self.catalogue.procedure(code)
            except LookupError:
                return None
            amount = duration_seconds(self.calendar, procedure.duration, procedure.duration_unit)
            found = self.terms[code] = ProcedureTerms(procedure, amount, UNIT_CODES[procedure.duration_unit])
        return found

    def agency_problem(self, code: str, day_ordinal: int) -> str | None:
        key = (code, day_ordinal)
        if key not in self._agency_ok:
            try:
                self.catalogue.agency(code, date.fromordinal(day_ordinal))
                self._agency_ok[key] = None
            except UnknownAgencyError as error:
                self._agency_ok[key] = str(error)
        return self._agency_ok[key]


Update = tuple[DossierFacts | None, DossierFacts | None]
NewFacts = tuple[FactsColumns, list[DossierFacts]]
# (rows read, the checked records, their row numbers, their findings, the problems found, their facts if new)
Prepared = tuple[int, list[Record], list[int], list[tuple[str, Finding]], list[RowProblem], NewFacts | None]
Step = tuple[FactsColumns, list[DossierFacts], list[Update]]


@dataclass
class Staged:
    """What a committed import changes in the index accumulator, applied in order."""

    steps: list[Step] = field(default_factory=list)

    def apply(self, accumulator: IndexAccumulator) -> None:
        for columns, others, updates in self.steps:
            add_columns(accumulator, columns)
            for facts in others:
                accumulator.update(None, facts)
            for old, new in updates:
                accumulator.update(old, new)


@dataclass
class ImportReport:
    source: str
    format: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "findings": dict(self.findings),
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "dossiers_per_second": round(self.rows / self.seconds) if self.seconds else None,
        }


WARNINGS_SHOWN = 100


def import_chunks(
    conn: Connection, context: ImportContext, chunks: Iterable[Chunk], source: str, format: str
) -> tuple[ImportReport, Staged]:
    """Write every chunk in `conn`'s transaction; raises `DossierImportError` at the first faulty chunk
    (the caller rolls back)."""
    return import_prepared(conn, context, (prepare(context, chunk) for chunk in chunks), source, format)


def import_prepared(
    conn: Connection, context: ImportContext, prepared: Iterable[Prepared], source: str, format: str
) -> tuple[ImportReport, Staged]:
    """`import_chunks` for chunks already prepared (by `prepare`, here or in a worker process)."""
    started = time.perf_counter()
    report = ImportReport(source, format)
    staged = Staged()
    stored_findings: list[dict[str, Any]] = []
    recorded_ms = context.now_s * 1000
    # No writer thread: it would lose more waiting for the GIL than it gains (sqlite3 lets go of it only
    # inside each row's step). `import_workers` prepares in another process instead.
    try:
        for rows, records, numbers, found, problems, new_facts in prepared:
            if problems:
                raise DossierImportError(problems)
            report.rows += rows
            step, problems = _write(conn, records, numbers, report, new_facts)
            if problems:
                raise DossierImportError(problems)
            staged.steps.append(step)
            for code, finding in found:
                report.findings[finding.kind] += 1
                if finding.severity in STORED_SEVERITIES:
                    stored_findings.append(
                        {
                            "dossier_code": code,
                            "kind": finding.kind,
                            "field": finding.field,
                            "message": finding.message,
                            "severity": finding.severity,
                            "source": source[:200],
                            "recorded_ms": recorded_ms,
                        }
                    )
                    if len(report.warnings) < WARNINGS_SHOWN:
                        report.warnings.append({"code": code, "kind": finding.kind, "msg": finding.message})
    except FileFormatError as error:
        raise DossierImportError([RowProblem(error.row, None, error.field, error.message)]) from None
    if not report.rows:
        raise DossierImportError([RowProblem(None, None, "file", "has no dossier rows")])
    if stored_findings:
        conn.execute(insert(findings_table), stored_findings)
    report.seconds = time.perf_counter() - started
    conn.execute(
        insert(imports).values(
            source=source[:200],
            format=format,
            rows=report.rows,
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
            findings=dict(report.findings),
            seconds=report.seconds,
            imported_ms=recorded_ms,
        )
    )
    return report, staged


def prepare(context: ImportContext, chunk: Chunk) -> Prepared:
    """(rows read, the chunk's checked records, their row numbers, their findings, the problems found,
    the facts the accumulator receives if they are all new dossiers)."""
    return prepare_parsed(context, chunk, parse_table(chunk.header, chunk.rows))


def prepare_block(context: ImportContext, block: Block) -> Prepared:
    """`prepare` for a block of a CSV file read by Arrow."""
    return prepare_parsed(context, block.as_chunk(), parse_block(block))


def prepare_parsed(context: ImportContext, chunk: Chunk, parsed: list[Record | None]) -> Prepared:
    """`prepare` with the rows already parsed by a fast path (None: the model decides)."""
    records: list[Record] = []
    numbers: list[int] = []
    problems: list[RowProblem] = []
    for position, (record, number) in enumerate(zip(parsed, chunk.numbers, strict=True)):
        if record is None:
            try:
                record = parse_with_model(chunk.as_model_input(position))
            except RowError as error:
                code = chunk.rows[position][chunk.header.index("code")]
                for name, message in error.problems:
                    problems.append(
                        RowProblem(number, code if isinstance(code, str) else None, name, message)
                    )
                if len(problems) >= MAX_PROBLEMS:
                    break
                continue
            except FileFormatError as error:
                problems.append(RowProblem(number, None, error.field, error.message))
                continue
        records.append(record)
        numbers.append(number)
    rows = len(chunk.rows)
    if problems:
        return rows, [], [], [], problems, None
    found: list[tuple[str, Finding]] = []
    records, problems = _check(context, records, numbers, found)
    if problems:
        return rows, [], [], [], problems, None
    records = _settle_due_dates(context, records, found)
    return rows, records, numbers, found, [], facts_for_new(records)


def _check(
    context: ImportContext, records: list[Record], numbers: list[int], found: list[tuple[str, Finding]]
) -> tuple[list[Record], list[RowProblem]]:
    """Catalogue, agency validity, area on the day, moments not in the future, the code's parts; on whole
    columns, each check made once per distinct value (or pair of value and day)."""
    if not records:
        return records, []
    columns = list(zip(*records, strict=True))
    codes, procedures, agencies, areas = columns[0], columns[1], columns[2], columns[C["area_code"]]
    parts = [code.rpartition("-")[0].rpartition("-") for code in codes]
    code_texts = [part[2] for part in parts]
    code_day = _per_distinct(code_texts, _code_day)
    received = _array(columns[C["received_at"]])
    submitted = _array(columns[C["submitted_at"]])
    anchor = np.where(received != NONE, received, submitted)
    anchor_day = np.where(anchor == NONE, code_day, (anchor + VN_OFFSET_S) // DAY_S + _EPOCH_ORDINAL)
    first_problem: dict[int, RowProblem] = {}

    def refuse(rows: Iterable[int], field_name: str, message: str) -> None:
        for row in rows:
            if row not in first_problem:
                first_problem[row] = RowProblem(numbers[row], codes[row], field_name, message)

    known = _per_distinct(procedures, lambda code: context.procedure_terms(code) is not None)
    for row in np.flatnonzero(~known).tolist():
        refuse([row], "procedure_code", f"{procedures[row]!r} is not in the procedure catalogue")
    for (agency, day), rows in _pairs(agencies, anchor_day).items():
        problem = context.agency_problem(agency, day)
        if problem is not None:
            field_name, _, message = problem.partition(": ")
            refuse(rows, field_name, message)
    mapped: dict[int, str] = {}
    for (area, day), rows in _pairs(areas, anchor_day).items():
        try:
            successor = context.area_book.code_on(area, day)
        except AreaRuleError as error:
            field_name, _, message = str(error).partition(": ")
            refuse(rows, field_name, message)
            continue
        if successor != area:
            mapped.update(dict.fromkeys(rows, successor))
    latest_allowed = context.now_s + FUTURE_SLACK_S
    for name in TIME_COLUMNS:
        if name == "due_at":  # a due date is ahead
            continue
        position = C[name]
        for row in np.flatnonzero(_array(columns[position]) > latest_allowed).tolist():
            refuse([row], name, f"{from_timestamp(records[row][position]).isoformat()} is in the future")
    if first_problem:
        return [], [first_problem[row] for row in sorted(first_problem)[:MAX_PROBLEMS]]
    checked = records
    for row, successor in mapped.items():
        record = records[row]
        message = f"{record[3]} ended with the 2025 reform; counted in {successor}, its successor"
        found.append((record[0], Finding("area_mapped", "area_code", message, "info")))
        checked[row] = (*record[:3], successor, *record[4:])
    for row, (part, agency) in enumerate(zip(parts, agencies, strict=True)):
        if part[0] != agency:
            message = f"code names agency {part[0]}, dossier says {agency}"
            found.append((codes[row], Finding("code_agency", "code", message)))
    submitted_day = np.where(submitted == NONE, NONE, (submitted + VN_OFFSET_S) // DAY_S + _EPOCH_ORDINAL)
    odd_date = (anchor != NONE) & (code_day != anchor_day)
    odd_date &= (received == NONE) | (submitted == NONE) | (code_day != submitted_day)
    for row in np.flatnonzero(odd_date).tolist():
        message = f"code date {code_texts[row]} is neither the submission nor the receipt date"
        found.append((codes[row], Finding("code_date", "code", message, "info")))
    return checked, []


def _array(values: Sequence[int | None]) -> Int64s:
    return np.array([NONE if v is None else v for v in values], dtype=np.int64)


def _per_distinct(values: Sequence[str], answer: Callable[[str], Any]) -> npt.NDArray[Any]:
    """`answer` of each value, asked once per distinct value."""
    answers = {value: answer(value) for value in dict.fromkeys(values)}
    return np.array([answers[value] for value in values])


def _pairs(values: Sequence[str], days: Int64s) -> dict[tuple[str, int], list[int]]:
    """The rows of each distinct (value, day)."""
    index = {value: i for i, value in enumerate(dict.fromkeys(values))}
    names = list(index)
    keys = np.array([index[value] for value in values], dtype=np.int64) * 10_000_000 + days
    distinct, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(distinct) + 1))
    return {
        (names[key // 10_000_000], int(key % 10_000_000)): order[bounds[i] : bounds[i + 1]].tolist()
        for i, key in enumerate(distinct.tolist())
    }


def _code_day(text: str) -> int:
    return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6])).toordinal()


def _settle_due_dates(
    context: ImportContext, records: list[Record], found: list[tuple[str, Finding]]
) -> list[Record]:
    """Compare each source due date with the calendar's; fill a missing one from the calendar."""
    received_i, due_i, origin_i, supplements_i = (
        C["received_at"],
        C["due_at"],
        C["due_origin"],
        C["supplements"],
    )
    vector_rows: list[int] = []
    pauses: list[tuple[int, int]] = []  # (start, end) of the one supplement wait of each vector row
    scalar_rows: list[int] = []
    for position, record in enumerate(records):
        received = record[received_i]
        if received is None or record[origin_i] == 1:
            continue
        terms = context.terms[record[1]]
        supplements = record[supplements_i]
        pause = (0, 0)
        if supplements is not None:
            requests = orjson.loads(supplements)
            if len(requests) != 1:
                scalar_rows.append(position)
                continue
            requested, _, provided = requests[0]
            if provided is not None and provided > received:
                pause = (max(requested, received), provided)
        if terms.amount is None:
            scalar_rows.append(position)
            continue
        vector_rows.append(position)
        pauses.append(pause)
    expected: dict[int, int] = {}
    if vector_rows:
        arrays = context.due_arrays
        received_a = np.array([records[p][received_i] for p in vector_rows], dtype=np.int64)
        amount = np.array([context.terms[records[p][1]].amount for p in vector_rows], dtype=np.int64)
        unit = np.array([context.terms[records[p][1]].unit for p in vector_rows], dtype=np.int64)
        due = arrays.due(received_a, amount, unit)
        paused = np.array(pauses, dtype=np.int64).reshape(-1, 2)
        waits = paused[:, 1] > paused[:, 0]
        if waits.any():
            waited = arrays.working_between(paused[waits, 0], paused[waits, 1])
            extended = arrays.add_working(due[waits], waited)
            due[waits] = np.where(waited > 0, extended, due[waits])
        expected = dict(zip(vector_rows, due.tolist(), strict=True))
    for position in scalar_rows:
        record = records[position]
        computed = expected_due(dossier_of(record), context.terms[record[1]].procedure, context.calendar)
        if computed is not None:
            expected[position] = int(computed.timestamp())
    settled = list(records)
    for position, computed_s in expected.items():
        record = records[position]
        source_due = record[due_i]
        if source_due is None:
            settled[position] = (*record[:due_i], computed_s, 1, *record[origin_i + 1 :])
            message = f"no due date from the source; calendar gives {from_timestamp(computed_s).isoformat()}"
            found.append((record[0], Finding("due_computed", "due_at", message, "info")))
        elif abs(source_due - computed_s) >= 60:
            finding = compare_due(from_timestamp(source_due), from_timestamp(computed_s), context.calendar)
            if finding is not None:
                found.append((record[0], finding))
    return settled


def _write(
    conn: Connection,
    records: list[Record],
    numbers: list[int],
    report: ImportReport,
    new_facts: NewFacts | None,
) -> tuple[Step, list[RowProblem]]:
    if insert_new_records(conn, records):
        report.inserted += len(records)
        columns, others = new_facts or facts_for_new(records)
        return (columns, others, []), []
    existing = fetch_records(conn, (r[0] for r in records))
    pending: dict[str, tuple[Record | None, Record]] = {}
    problems: list[RowProblem] = []
    for record, number in zip(records, numbers, strict=True):
        code = record[0]
        original, base = pending[code] if code in pending else (existing.get(code),) * 2
        if base is None:
            pending[code] = (None, record)
            continue
        verdict = _compare(base, record)
        if verdict == "unchanged":
            report.unchanged += 1
        elif verdict == "stale":
            report.stale += 1
        elif verdict == "update":
            pending[code] = (original, record)
        else:
            problems.append(RowProblem(number, code, "status", verdict))
    if problems:
        return (FactsColumns.of([]), [], []), problems
    new = [record for original, record in pending.values() if original is None]
    changed = [(original, record) for original, record in pending.values() if original is not None]
    insert_records(conn, new)
    update_records(conn, [record for _, record in changed])
    report.inserted += len(new)
    report.updated += len(changed)
    columns, others = facts_for_new(new)
    updates = [(facts_of_record(old), facts_of_record(record)) for old, record in changed]
    return (columns, others, updates), []


def facts_for_new(records: list[Record]) -> tuple[FactsColumns, list[DossierFacts]]:
    """The facts of dossiers not yet in the accumulator: columns for those the array path takes (received,
    and without a supplement request or ended in the month of receipt), the others one by one."""
    received_i, supplements_i = C["received_at"], C["supplements"]
    received = [r for r in records if r[received_i] is not None]
    columns = _columns(received)
    with_request = np.array([r[supplements_i] is not None for r in received], dtype=np.bool_)
    take = ~with_request | same_month(columns.received, columns.end)
    others = [f for r, t in zip(received, take.tolist(), strict=True) if not t and (f := facts_of_record(r))]
    return columns.subset(take), others


def _columns(records: list[Record]) -> FactsColumns:
    status = np.array([r[C["status"]] for r in records], dtype=np.int64)
    finished = _times(records, "finished_at")
    end = np.full(len(records), NONE, dtype=np.int64)
    kind = np.zeros(len(records), dtype=np.int64)
    processed = (status == 9) | (status == 10)
    end[processed] = np.where(
        finished[processed] != NONE, finished[processed], _times(records, "returned_at")[processed]
    )
    kind[processed] = 1
    for code, name, end_kind in ((7, "cancelled_at", 2), (3, "refused_at", 3), (8, "stopped_at", 4)):
        rows = status == code
        end[rows] = _times(records, name)[rows]
        kind[rows] = end_kind
    flags = _facts_flags(records)
    electronic = (_column(records, "flags") & FLAG_BITS["electronic_result"]) != 0
    flags |= np.where(processed & electronic, ELECTRONIC_RESULT, 0)
    received = _times(records, "received_at")
    latest = np.maximum(received, end)
    for position, record in enumerate(records):
        if record[C["supplements"]] is not None:
            moments = [
                t for request in orjson.loads(record[C["supplements"]]) for t in (request[0], request[2])
            ]
            latest[position] = max(int(latest[position]), *(t for t in moments if t is not None))
    return FactsColumns(
        agency=[r[2] for r in records],
        area=[r[3] for r in records],
        received=received,
        due=_times(records, "due_at"),
        end=end,
        end_kind=kind,
        flags=flags,
        latest=latest,
    )


def _column(records: list[Record], name: str, absent: int = NONE) -> Int64s:
    position = C[name]
    return np.array([absent if r[position] is None else r[position] for r in records], dtype=np.int64)


def _facts_flags(records: list[Record]) -> Int64s:
    """`records.facts_flags` of each record, on arrays."""
    channel, level, stored = (
        _column(records, "channel"),
        _column(records, "online_level"),
        _column(records, "flags"),
    )
    fee, paid, rating = (
        _column(records, "fee_vnd"),
        _column(records, "paid_online"),
        _column(records, "rating"),
    )
    online = channel == 2
    bits = [
        (ONLINE, online),
        (VNEID, online & ((stored & FLAG_BITS["vneid_authenticated"]) != 0)),
        (POSTAL, channel == 3),
        (ONLINE_PARTIAL, level == 3),
        (ONLINE_FULL, level == 4),
        (DIGITISED, (stored & FLAG_BITS["digitised"]) != 0),
        (REUSED, (stored & FLAG_BITS["reused_data"]) != 0),
        (NATIONAL_STORE, (stored & FLAG_BITS["from_national_store"]) != 0),
        (SYNCED, (stored & FLAG_BITS["synced_national"]) != 0),
        (FEE, fee > 0),
        (PAID_ONLINE, paid != NONE),
        (RATED, rating != NONE),
        (SATISFIED, rating >= 2),
        (COMPLAINED, ((stored & FLAG_BITS["complained"]) != 0) | (rating == 1)),
    ]
    flags = np.zeros(len(records), dtype=np.int64)
    for bit, present in bits:
        flags |= np.where(present, bit, 0)
    return flags


def _times(records: list[Record], name: str) -> Int64s:
    position = C[name]
    return np.array([NONE if r[position] is None else r[position] for r in records], dtype=np.int64)


def _compare(old: Record, new: Record) -> str:
    """'unchanged', 'stale', 'update', or why the change is refused."""
    if new == old:
        return "unchanged"
    old_status, new_status = old[C["status"]], new[C["status"]]
    old_at, new_at = old[C["status_at"]], new[C["status_at"]]
    if old_at is not None and new_at is not None and new_at < old_at:
        return "stale"
    if old_status in TERMINAL and new_status != old_status:
        return (
            f"dossier {old[0]} has already ended as {_status_name(old_status)} ({old_status}); "
            f"the file says {_status_name(new_status)} ({new_status})"
        )
    if new_status == 1 and old_status != 1:
        return (
            f"dossier {old[0]} was accepted ({_status_name(old_status)}, {old_status}); "
            "it cannot go back to receiving (1)"
        )
    return "update"


def _status_name(code: int) -> str:
    return DossierStatus(code).portal_name
