"""The apology letter with a new return date ("Phiếu xin lỗi và hẹn lại ngày trả kết quả") that the
one-stop mechanism requires for a dossier that will be late, as printable Vietnamese HTML.

The new date is the officer's (`new_due`) or, by default, half the procedure's legal duration again (at
least one working day) after the later of now and the current due date, on the working calendar. The
letter is a view: issuing it changes nothing stored; the new date reaches the dossier when the one-stop
system sends it with its next event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityops.services.catalogue import Catalogue, Procedure
from cityops.services.dossiers.model import Channel, Dossier
from cityops.services.localities import AreaBook
from cityops.services.timing.calendar import WorkingCalendar, local

TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_REASON = "hồ sơ cần thêm thời gian để xem xét, thẩm định và giải quyết theo quy định"
CHANNELS = {
    Channel.WALK_IN: "Trực tiếp",
    Channel.ONLINE: "Trực tuyến",
    Channel.POSTAL: "Qua bưu chính công ích",
}
UNITS = {"working_days": "ngày làm việc", "working_hours": "giờ làm việc", "calendar_days": "ngày"}
OPEN_STATUSES = frozenset((1, 2, 4, 5, 6))
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), keep_trailing_newline=True
)


class LetterError(ValueError):
    """The letter cannot be made for this dossier or with these values; names the field."""


@dataclass(frozen=True)
class Letter:
    code: str
    agency_name: str
    place: str
    issued_on: str
    received_on: str
    applicant: str | None
    procedure_code: str
    procedure_name: str
    channel: str
    legal_duration: str
    due_text: str
    new_due: datetime
    new_due_text: str
    reason: str
    signatory_title: str
    simulated: bool


def vietnamese_day(moment: datetime) -> str:
    return f"ngày {moment.day:02d} tháng {moment.month:02d} năm {moment.year}"


def vietnamese_moment(moment: datetime) -> str:
    return f"{moment.hour:02d} giờ {moment.minute:02d} phút, {vietnamese_day(moment)}"


def default_new_due(
    dossier: Dossier, procedure: Procedure, calendar: WorkingCalendar, now: datetime
) -> datetime:
    assert dossier.due_at is not None
    legal_days = procedure.duration if procedure.duration_unit != "working_hours" else procedure.duration / 8
    extra = max(1, math.ceil(legal_days / 2))
    return calendar.add_working_days(max(now, dossier.due_at), extra)


def make_letter(
    dossier: Dossier,
    *,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    area_book: AreaBook,
    now: datetime,
    new_due: datetime | None = None,
    reason: str | None = None,
    applicant: str | None = None,
    simulated: bool = False,
) -> Letter:
    if dossier.status not in OPEN_STATUSES:
        raise LetterError(
            f"status: dossier {dossier.code} has ended ({dossier.status.portal_name}); "
            "an apology letter is for a dossier still being handled"
        )
    if dossier.received_at is None or dossier.due_at is None:
        raise LetterError(f"due_at: dossier {dossier.code} has no due date yet; it has not been received")
    procedure = catalogue.procedure(dossier.procedure_code)
    now = local("now", now)
    if new_due is None:
        new_due = default_new_due(dossier, procedure, calendar, now)
    else:
        new_due = local("new_due", new_due)
        if new_due <= max(now, dossier.due_at):
            raise LetterError(
                f"new_due: {new_due.isoformat()} must be after the current due date "
                f"{dossier.due_at.isoformat()} and after now"
            )
        if not calendar.is_working_time(new_due):
            raise LetterError(
                f"new_due: {new_due.isoformat()} is outside office hours of a working day; "
                f"the next working moment is {calendar.next_working_moment(new_due).isoformat()}"
            )
    try:
        agency_name = catalogue.agency(dossier.agency_code, dossier.received_at.date()).name
    except LookupError:
        agency_name = dossier.agency_code
    text = (reason or DEFAULT_REASON).strip()
    if len(text) > 500:
        raise LetterError("reason: at most 500 characters")
    return Letter(
        code=dossier.code,
        agency_name=agency_name,
        place=_place(area_book, dossier.area_code),
        issued_on=vietnamese_day(now),
        received_on=f"{dossier.received_at:%d/%m/%Y}",
        applicant=applicant,
        procedure_code=procedure.code,
        procedure_name=procedure.name,
        channel=CHANNELS[dossier.channel],
        legal_duration=f"{procedure.duration:g} {UNITS[procedure.duration_unit]}",
        due_text=vietnamese_moment(dossier.due_at),
        new_due=new_due,
        new_due_text=vietnamese_moment(new_due),
        reason=text.rstrip("."),
        signatory_title="ĐẠI DIỆN CƠ QUAN",
        simulated=simulated or dossier.agency_code.startswith("SIM."),
    )


def render(letter: Letter) -> str:
    return _environment.get_template("apology_letter.html").render(letter=letter)


def _place(area_book: AreaBook, area_code: str) -> str:
    code: str | None = area_code
    name = "Bình Dương"
    while code is not None and code in area_book.areas:
        area = area_book.areas[code]
        name = area.name
        code = area.parent
    for prefix in ("Tỉnh ", "Thành phố "):
        name = name.removeprefix(prefix)
    return name
