"""What a citizen sends, checked field by field: a known category, a description in Vietnamese with its
diacritics, a location (coordinates or an address), contact details of a valid shape, at most a few files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO

from cityops.reports.diacritics import lacks_diacritics
from cityops.reports.errors import ReportError
from cityops.reports.routing import RoutingTable

DESCRIPTION_LIMITS = (10, 5000)
ADDRESS_LIMITS = (3, 300)
NAME_MAX = 100
MAX_FILES = 5
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
PHONE = re.compile(r"^\+?[0-9]{8,15}$")


@dataclass(frozen=True)
class Upload:
    source: BinaryIO
    filename: str


@dataclass(frozen=True)
class Submission:
    service_code: str
    description: str
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    files: list[Upload] = field(default_factory=list)


def blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def parse_coordinate(field_name: str, raw: str | None, low: float, high: float) -> float | None:
    """A form's latitude or longitude ("" is none)."""
    text = blank_to_none(raw)
    if text is None:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise ReportError(422, field_name, "coordinate", low=low, high=high) from None
    if not low <= value <= high:  # also refuses nan
        raise ReportError(422, field_name, "coordinate", low=low, high=high)
    return value


def check_text(field_name: str, text: str | None, limits: tuple[int, int]) -> str:
    value = (text or "").strip()
    if not value:
        raise ReportError(422, field_name, "required")
    if len(value) < limits[0]:
        raise ReportError(422, field_name, "too_short", min=limits[0])
    if len(value) > limits[1]:
        raise ReportError(422, field_name, "too_long", max=limits[1])
    if lacks_diacritics(value):
        raise ReportError(422, field_name, "diacritics")
    return value


def check_category(table: RoutingTable, code: str) -> str:
    if table.category(code) is None:
        known = ", ".join(c.code for c in table.categories)
        raise ReportError(422, "service_code", "unknown_category", value=code, known=known)
    return code


def checked(submission: Submission, table: RoutingTable) -> Submission:
    """`submission` with its text trimmed; raises `ReportError` on the first bad field."""
    check_category(table, submission.service_code)
    description = check_text("description", submission.description, DESCRIPTION_LIMITS)
    if (submission.lat is None) != (submission.lon is None):
        raise ReportError(422, "lat" if submission.lat is None else "long", "both_coordinates")
    for coordinate, value, low, high in (
        ("lat", submission.lat, -90, 90),
        ("long", submission.lon, -180, 180),
    ):
        if value is not None and not low <= value <= high:
            raise ReportError(422, coordinate, "coordinate", low=low, high=high)
    address = blank_to_none(submission.address)
    if address is not None:
        check_text("address_string", address, ADDRESS_LIMITS)
    elif submission.lat is None:
        raise ReportError(422, "address_string", "location")
    name = blank_to_none(submission.contact_name)
    if name is not None and len(name) > NAME_MAX:
        raise ReportError(422, "name", "too_long", max=NAME_MAX)
    email = blank_to_none(submission.contact_email)
    if email is not None and not EMAIL.match(email):
        raise ReportError(422, "email", "email")
    phone = blank_to_none(submission.contact_phone)
    if phone is not None:
        phone = re.sub(r"[\s.()-]", "", phone)
        if not PHONE.match(phone):
            raise ReportError(422, "phone", "phone")
    if len(submission.files) > MAX_FILES:
        raise ReportError(422, "media", "too_many_files", max=MAX_FILES)
    return Submission(
        submission.service_code,
        description,
        submission.lat,
        submission.lon,
        address,
        name,
        email,
        phone,
        submission.files,
    )
