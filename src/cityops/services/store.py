"""Reading and writing the domain's tables: the catalogue, the calendar's swapped days, dossier records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import Connection, delete, insert, select, update

from cityops.services.catalogue import Agency, Catalogue, Procedure
from cityops.services.dossiers.records import COLUMNS, Record
from cityops.services.schema import agencies, calendar_overrides, dossiers, procedures
from cityops.services.timing.calendar import DayOverride, load_overrides

RECORD_COLUMNS = [dossiers.c[name] for name in COLUMNS]
_PROCEDURE_FIELDS = [c.name for c in procedures.columns]
_SQLITE_PARAMETERS = 30_000  # below SQLite's 32,766 host parameters


def load_catalogue(conn: Connection) -> Catalogue:
    procedure_list = [
        Procedure.model_validate(dict(row._mapping)) for row in conn.execute(select(procedures))
    ]
    agency_list = [
        Agency.model_validate(
            {
                **row._mapping,
                "valid_from": row.valid_from or None,
                "valid_to": row.valid_to or None,
            }
        )
        for row in conn.execute(select(agencies))
    ]
    return Catalogue(procedure_list, agency_list)


def save_procedures(conn: Connection, items: Sequence[Procedure]) -> None:
    """Insert or replace procedures by code."""
    codes = [p.code for p in items]
    for chunk in _chunks(codes, _SQLITE_PARAMETERS):
        conn.execute(delete(procedures).where(procedures.c.code.in_(chunk)))
    if items:
        conn.execute(
            insert(procedures),
            [{name: _column_value(getattr(p, name)) for name in _PROCEDURE_FIELDS} for p in items],
        )


def save_agencies(conn: Connection, items: Sequence[Agency]) -> None:
    """Insert or replace agency versions by (code, valid_from)."""
    for agency in items:
        conn.execute(
            delete(agencies).where(
                agencies.c.code == agency.code, agencies.c.valid_from == _day(agency.valid_from)
            )
        )
    if items:
        conn.execute(
            insert(agencies),
            [
                {
                    "code": a.code,
                    "valid_from": _day(a.valid_from),
                    "valid_to": a.valid_to.isoformat() if a.valid_to else None,
                    "name": a.name,
                    "area_code": a.area_code,
                    "level": a.level,
                }
                for a in items
            ],
        )


def _column_value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def stored_overrides(conn: Connection) -> list[DayOverride] | None:
    """The operator's swapped days, or None before any were stored (the packaged table applies)."""
    rows = conn.execute(select(calendar_overrides).order_by(calendar_overrides.c.day)).all()
    if not rows:
        return None
    return [DayOverride(day=date.fromisoformat(r.day), working=r.working, reason=r.reason) for r in rows]


def effective_overrides(conn: Connection) -> list[DayOverride]:
    stored = stored_overrides(conn)
    return load_overrides() if stored is None else stored


def replace_overrides(conn: Connection, overrides: Iterable[DayOverride]) -> None:
    conn.execute(delete(calendar_overrides))
    rows = [{"day": o.day.isoformat(), "working": o.working, "reason": o.reason} for o in overrides]
    if rows:
        conn.execute(insert(calendar_overrides), rows)


def fetch_records(conn: Connection, codes: Iterable[str]) -> dict[str, Record]:
    found: dict[str, Record] = {}
    for chunk in _chunks(list(codes), _SQLITE_PARAMETERS):
        for row in conn.execute(select(*RECORD_COLUMNS).where(dossiers.c.code.in_(chunk))):
            found[row[0]] = tuple(row)
    return found


def all_records(conn: Connection, batch: int = 100_000) -> Iterator[list[Record]]:
    """Every stored dossier, in batches (for a full recomputation)."""
    result = conn.execution_options(yield_per=batch).execute(select(*RECORD_COLUMNS).order_by(dossiers.c.id))
    for partition in result.partitions(batch):
        yield [tuple(row) for row in partition]


def insert_records(conn: Connection, records: Sequence[Record]) -> None:
    if not records:
        return
    if conn.dialect.name == "sqlite":
        # The driver's executemany with tuples: SQLAlchemy's per-row parameter processing costs more
        # than the statement at the import's pace.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(INSERT_SQL, records)
        return
    _copy_records(conn, records)


def _copy_records(conn: Connection, records: Sequence[Record]) -> None:
    """PostgreSQL's bulk path: one COPY of the records, no row-by-row INSERT."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(COPY_SQL) as copy:
        for record in records:
            copy.write_row(record)


def insert_new_records(conn: Connection, records: Sequence[Record]) -> bool:
    """Insert `records` if none of their codes is stored (nor repeated among them): True; otherwise store
    nothing and return False."""
    if conn.dialect.name == "postgresql":
        # COPY stops at the first code already stored (a unique violation); the savepoint undoes it.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("SAVEPOINT services_new_records")
        try:
            _copy_records(conn, records)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT services_new_records")
            cursor.execute("RELEASE SAVEPOINT services_new_records")
            return False
        cursor.execute("RELEASE SAVEPOINT services_new_records")
        return True
    driver = conn.connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    before = driver.total_changes  # type: ignore[union-attr]
    cursor.execute("SAVEPOINT services_new_records")
    cursor.executemany(INSERT_IGNORE_SQL, records)
    if driver.total_changes - before == len(records):  # type: ignore[union-attr]
        cursor.execute("RELEASE services_new_records")
        return True
    cursor.execute("ROLLBACK TO services_new_records")
    cursor.execute("RELEASE services_new_records")
    return False


def update_records(conn: Connection, records: Sequence[Record]) -> None:
    for record in records:
        values = dict(zip(COLUMNS[1:], record[1:], strict=True))
        conn.execute(update(dossiers).where(dossiers.c.code == record[0]).values(**values))


_PLACEHOLDERS = ", ".join("?" for _ in COLUMNS)
INSERT_SQL = f"INSERT INTO services_dossiers ({', '.join(COLUMNS)}) VALUES ({_PLACEHOLDERS})"
INSERT_IGNORE_SQL = INSERT_SQL.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
COPY_SQL = f"COPY services_dossiers ({', '.join(COLUMNS)}) FROM STDIN"


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
