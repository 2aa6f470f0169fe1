"""Fixtures for the services domain: a runtime on the test store with a small catalogue and a fixed clock,
files of dossiers in each format, and one simulated province-year shared by the tests that need volume."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from cityops.core.kernel import Kernel
from cityops.services.catalogue import REFORM_DATE, Agency, Procedure
from cityops.services.demo.generator import DemoProvince
from cityops.services.importing.readers import Chunk
from cityops.services.localities import AreaBook
from cityops.services.runtime import ServicesRuntime
from cityops.services.timing.calendar import VN_TZ

NOW = datetime(2025, 9, 15, 10, 0, tzinfo=VN_TZ)
PROCEDURES = [
    Procedure(
        code="1.000001",
        name="Cấp giấy phép xây dựng",
        field="Xây dựng",
        level="full",
        duration=5,
        duration_unit="working_days",
        agency_level="province",
        fee_bearing=True,
        online_payment=True,
        on_national_portal=True,
    ),
    Procedure(
        code="1.000002",
        name="Chứng thực bản sao",
        field="Chứng thực",
        level="partial",
        duration=8,
        duration_unit="working_hours",
        agency_level="commune",
    ),
    Procedure(
        code="1.000003",
        name="Đăng ký đất đai",
        field="Đất đai",
        level="none",
        duration=15,
        duration_unit="calendar_days",
        agency_level="district",
    ),
]
AGENCIES = [
    Agency(code="H57.S01", name="Sở Xây dựng", area_code="legacy:74", level="province"),
    Agency(
        code="H57.D718",
        name="UBND TP Thủ Dầu Một",
        area_code="legacy:718",
        level="district",
        valid_to=REFORM_DATE,
    ),
    Agency(
        code="H57.W25741",
        name="UBND phường Phú Cường",
        area_code="legacy:25741",
        level="commune",
        valid_to=REFORM_DATE,
    ),
    Agency(
        code="H57.N25747",
        name="UBND phường mới",
        area_code="2025:25747",
        level="commune",
        valid_from=REFORM_DATE,
    ),
]


def dossier_row(**changes: Any) -> dict[str, Any]:
    """A dossier received on Monday 3 March 2025 at 08:00 by the provincial department, done on time."""
    row: dict[str, Any] = {
        "code": "H57.S01-250303-0001",
        "procedure_code": "1.000001",
        "agency_code": "H57.S01",
        "area_code": "legacy:74",
        "channel": "2",
        "online_level": "4",
        "status": "done",
        "status_at": "2025-03-07T10:00:00+07:00",
        "submitted_at": "2025-03-03T07:30:00+07:00",
        "received_at": "2025-03-03T08:00:00+07:00",
        "due_at": "2025-03-10T08:00:00+07:00",  # 5 working days later
        "finished_at": "2025-03-07T09:00:00+07:00",
        "returned_at": "2025-03-07T10:00:00+07:00",
        "fee_vnd": "50000",
        "paid_online": "1",
    }
    row.update(changes)
    return row


def numbered(count: int, **changes: Any) -> list[dict[str, Any]]:
    return [dossier_row(code=f"H57.S01-250303-{n:04d}", **changes) for n in range(1, count + 1)]


def header_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(name for row in rows for name in row))


def csv_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    header = header_of(rows)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return text.getvalue().encode()


def xlsx_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    """Moments as Excel date cells (local time, no zone), the rest as text or numbers."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    header = header_of(rows)
    sheet.append(header)
    for row in rows:
        cells: list[Any] = []
        for name in header:
            value = row.get(name, "")
            if name.endswith("_at") and value and _aware(value):
                value = datetime.fromisoformat(value).astimezone(VN_TZ).replace(tzinfo=None)
            elif name in ("channel", "status", "fee_vnd") and str(value).isdigit():
                value = int(value)
            cells.append(value if value != "" else None)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _aware(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def chunk_of(rows: Sequence[dict[str, Any]]) -> Chunk:
    header = tuple(header_of(rows))
    return Chunk(
        header, [[row.get(name, "") for name in header] for row in rows], list(range(1, len(rows) + 1))
    )


class Clock:
    """The time the runtime and the kernel read; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def seconds(self) -> int:
        return int(self.now.timestamp())


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def services_kernel(kernel: Kernel, clock: Clock) -> Kernel:
    kernel.now_ms = lambda: clock.seconds() * 1000  # type: ignore[method-assign]
    return kernel


@pytest.fixture
def runtime(services_kernel: Kernel, clock: Clock) -> Iterator[ServicesRuntime]:
    runtime = ServicesRuntime(services_kernel.engine, clock.seconds)
    runtime.save_catalogue(PROCEDURES, AGENCIES)
    services_kernel.states["services"] = runtime
    yield runtime


@pytest.fixture(scope="session")
def area_book(template_db: Any) -> AreaBook:
    from cityops.core.store import open_engine

    engine = open_engine(template_db)
    with engine.connect() as conn:
        book = AreaBook.load(conn)
    engine.dispose()
    return book


@pytest.fixture(scope="session")
def demo_province(area_book: AreaBook) -> DemoProvince:
    return DemoProvince(area_book)


@pytest.fixture(scope="session")
def demo_2025(demo_province: DemoProvince) -> list[Chunk]:
    """A small simulated 2025 (the reform year) up to NOW, in chunks of 2,000 rows."""
    return list(demo_province.chunks(2025, total=6_000, until=NOW, chunk_rows=2_000))


def day(text: str) -> date:
    return date.fromisoformat(text)
