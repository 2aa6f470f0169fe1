"""A dossier (hồ sơ TTHC) with the fields the provincial one-stop systems sync to the national portal.

Every datetime must be timezone-aware and is stored as Vietnam local time. The model refuses records
that cannot be true (a result returned before the dossier was received, a due date before receipt, a
`done` dossier without a return date...), naming the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import IntEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from cityops.services.catalogue import Code, OnlineLevelField
from cityops.services.timing.calendar import VN_TZ


class DossierStatus(IntEnum):
    """Status codes of the national portal sync; `portal_name` is the portal's string."""

    RECEIVING = 1  # registered online, not yet accepted
    NEW = 2  # accepted (received)
    DENIED = 3
    PROCESSING = 4
    WAITING = 5  # supplement requested from the citizen
    PAYING = 6  # financial obligation to settle
    CANCELLED = 7  # withdrawn
    UNRESOLVED = 8  # stopped
    RELEASING = 9  # processed, result ready
    DONE = 10  # result returned

    @property
    def portal_name(self) -> str:
        return self.name.lower()

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @classmethod
    def parse(cls, value: Any) -> DossierStatus:
        """From a code (4, '4') or a portal string ('processing')."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and not value.strip().isdigit():
            try:
                return cls[value.strip().upper()]
            except KeyError:
                names = ", ".join(s.portal_name for s in cls)
                raise ValueError(f"status: {value!r} is not a portal status ({names})") from None
        try:
            return cls(int(value))
        except (TypeError, ValueError):
            raise ValueError(f"status: {value!r} is not a status code 1–10") from None


_TERMINAL = frozenset(
    {DossierStatus.DENIED, DossierStatus.CANCELLED, DossierStatus.UNRESOLVED, DossierStatus.DONE}
)


class Channel(IntEnum):
    WALK_IN = 1
    ONLINE = 2
    POSTAL = 3  # public postal service


class PaymentChannel(IntEnum):
    NATIONAL_PORTAL = 1
    PROVINCIAL_GATEWAY = 2


class Rating(IntEnum):
    UNSATISFIED = 1
    SATISFIED = 2
    VERY_SATISFIED = 3


def _vietnam_time(value: datetime) -> datetime:
    return value.astimezone(VN_TZ)


VnDatetime = Annotated[AwareDatetime, AfterValidator(_vietnam_time)]
StatusField = Annotated[DossierStatus, BeforeValidator(DossierStatus.parse)]
_CODE = re.compile(r"^(?P<agency>\S+)-(?P<day>\d{6})-(?P<seq>\d{4})$")


def parse_dossier_code(code: str) -> tuple[str, date, int]:
    """`{agency}-{yyMMdd}-{4-digit daily sequence}` → (agency, day, sequence)."""
    match = _CODE.match(code)
    if not match:
        raise ValueError(f"code: {code!r} is not '{{agency}}-{{yyMMdd}}-{{4-digit sequence}}'")
    day = match["day"]
    try:
        parsed = date(2000 + int(day[:2]), int(day[2:4]), int(day[4:]))
    except ValueError:
        raise ValueError(f"code: {code!r} has no valid date yyMMdd ({day})") from None
    return match["agency"], parsed, int(match["seq"])


def dossier_code(agency: str, day: date, sequence: int) -> str:
    if not 1 <= sequence <= 9999:
        raise ValueError(f"sequence: {sequence} is not within 1–9999")
    return f"{agency}-{day:%y%m%d}-{sequence:04d}"


def _valid_code(code: str) -> str:
    parse_dossier_code(code)
    return code


class Supplement(BaseModel):
    """One request to supplement the dossier (yêu cầu bổ sung) and when the citizen provided it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requested_at: VnDatetime
    deadline: VnDatetime | None = None
    provided_at: VnDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.deadline is not None and self.deadline < self.requested_at:
            raise ValueError(f"deadline: {self.deadline} is before requested_at {self.requested_at}")
        if self.provided_at is not None and self.provided_at < self.requested_at:
            raise ValueError(f"provided_at: {self.provided_at} is before requested_at {self.requested_at}")
        return self


# The date each end status must carry (DONE may carry finished_at instead of returned_at).
_STATUS_DATE: dict[DossierStatus, str] = {
    DossierStatus.DENIED: "refused_at",
    DossierStatus.CANCELLED: "cancelled_at",
    DossierStatus.UNRESOLVED: "stopped_at",
    DossierStatus.RELEASING: "finished_at",
    DossierStatus.DONE: "returned_at",
}
_NEEDS_RECEIPT = frozenset(
    {
        DossierStatus.NEW,
        DossierStatus.PROCESSING,
        DossierStatus.PAYING,
        DossierStatus.UNRESOLVED,
        DossierStatus.RELEASING,
        DossierStatus.DONE,
    }
)
_AFTER_RECEIPT = ("due_at", "finished_at", "returned_at", "refused_at", "cancelled_at", "stopped_at")


class Dossier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Annotated[str, AfterValidator(_valid_code)]
    procedure_code: Code
    agency_code: Code
    area_code: Code
    channel: Channel
    online_level: OnlineLevelField | None = None
    status: StatusField
    status_at: VnDatetime | None = None  # when the current status was set (orders late events)

    submitted_at: VnDatetime | None = None
    received_at: VnDatetime | None = None
    due_at: VnDatetime | None = None
    due_origin: Literal["source", "calendar"] = "source"
    finished_at: VnDatetime | None = None  # processing finished (result ready)
    returned_at: VnDatetime | None = None
    refused_at: VnDatetime | None = None
    cancelled_at: VnDatetime | None = None  # withdrawn by the citizen
    stopped_at: VnDatetime | None = None
    supplements: tuple[Supplement, ...] = ()

    fee_vnd: int = Field(default=0, ge=0)
    paid_online: PaymentChannel | None = None
    digitised: bool = False
    reused_data: bool = False
    from_national_store: bool = False
    vneid_authenticated: bool = False
    electronic_result: bool = False
    synced_national: bool = False
    rating: Rating | None = None
    complained: bool = False

    @property
    def supplement_count(self) -> int:
        return len(self.supplements)

    @property
    def supplement_requested_at(self) -> datetime | None:
        return self.supplements[-1].requested_at if self.supplements else None

    @property
    def supplement_deadline(self) -> datetime | None:
        return self.supplements[-1].deadline if self.supplements else None

    @property
    def waiting_for_citizen(self) -> bool:
        return bool(self.supplements) and self.supplements[-1].provided_at is None

    @property
    def online(self) -> bool:
        return self.channel is Channel.ONLINE

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        received = self.received_at
        if received is not None and self.submitted_at is not None and received < self.submitted_at:
            raise ValueError(f"received_at: {received} is before submitted_at {self.submitted_at}")
        for name in _AFTER_RECEIPT:
            value: datetime | None = getattr(self, name)
            if value is not None and received is not None and value < received:
                raise ValueError(f"{name}: {value} is before received_at {received}")
        if self.finished_at and self.returned_at and self.returned_at < self.finished_at:
            raise ValueError(f"returned_at: {self.returned_at} is before finished_at {self.finished_at}")
        if self.status in _NEEDS_RECEIPT and received is None:
            raise ValueError(
                f"received_at: required when status is {self.status.portal_name} ({self.status})"
            )
        needed = _STATUS_DATE.get(self.status)
        done_when_finished = self.status is DossierStatus.DONE and self.finished_at is not None
        if needed and getattr(self, needed) is None and not done_when_finished:
            raise ValueError(f"{needed}: required when status is {self.status.portal_name} ({self.status})")
        if self.paid_online is not None and self.fee_vnd == 0:
            raise ValueError("paid_online: set on a dossier without fee (fee_vnd is 0)")
        self._check_supplements()
        return self

    def _check_supplements(self) -> None:
        previous_end: datetime | None = None
        for index, supplement in enumerate(self.supplements):
            if previous_end is None and index > 0:
                raise ValueError(f"supplements[{index}]: requested while request {index - 1} is still open")
            if previous_end is not None and supplement.requested_at < previous_end:
                raise ValueError(f"supplements[{index}]: requested before the previous one was provided")
            previous_end = supplement.provided_at
        if self.status is DossierStatus.WAITING and not self.waiting_for_citizen:
            raise ValueError("supplements: status is waiting (5) but no supplement request is open")
