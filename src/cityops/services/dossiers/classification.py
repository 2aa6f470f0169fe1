"""On-time classification of a dossier for a reporting period (one provincial system's rules).

A dossier is in a period's scope when it was received before the period ended and had not ended before
the period started. Within scope it falls in exactly one bucket:
- ended in the period — EARLY / ON_TIME / LATE by comparing the local *day* of its end with the day of
  its due date (no due date: on time). The status says how it ended; for a processed one the end time
  is when processing finished, else when the result was returned. A withdrawn or refused (after
  receipt) dossier counts as finished at that time. STOPPED (unresolved) is its own bucket and takes
  no part in timeliness.
- otherwise, open at the period's reference point (its end; for the period still running, the
  accumulator's clock): SUPPLEMENT when waiting for the citizen then, else OVERDUE when due before the
  reference point, DUE_SOON when due within the next 24 h, WITHIN_TIME otherwise (or with no due date).
  "Within time" in the reference sense is WITHIN_TIME + DUE_SOON.
- A supplement request stops the clock as on time; more than one request counts as late (unverified
  rule, `SUPPLEMENTS_ON_TIME`).
Backlog (`carried_over`) = received before the period start and still open at that start.

The hot path works on `DossierFacts`: plain ints (epoch seconds) and one bit mask, no pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import NamedTuple

from cityops.services.dossiers.model import Channel, Dossier, DossierStatus, Rating
from cityops.services.timing.periods import DAY_S, HOUR_S, VN_OFFSET_S, Period, timestamp

DUE_SOON_S = 24 * HOUR_S
SUPPLEMENTS_ON_TIME = 1


class EndKind(IntEnum):
    OPEN = 0
    PROCESSED = 1
    WITHDRAWN = 2
    REFUSED = 3
    STOPPED = 4


class Bucket(IntEnum):
    EARLY = 0
    ON_TIME = 1
    LATE = 2
    WITHIN_TIME = 3
    DUE_SOON = 4
    OVERDUE = 5
    SUPPLEMENT = 6
    STOPPED = 7


# Bits of DossierFacts.flags: what the dossier was at receipt (or at its end, for ELECTRONIC_RESULT).
ONLINE = 1 << 0
POSTAL = 1 << 1
ONLINE_PARTIAL = 1 << 2
ONLINE_FULL = 1 << 3
DIGITISED = 1 << 4
REUSED = 1 << 5
NATIONAL_STORE = 1 << 6
VNEID = 1 << 7  # online and authenticated with VNeID
SYNCED = 1 << 8
FEE = 1 << 9
PAID_ONLINE = 1 << 10
ELECTRONIC_RESULT = 1 << 11
RATED = 1 << 12
SATISFIED = 1 << 13
COMPLAINED = 1 << 14  # complaint or "unsatisfied" rating


class DossierFacts(NamedTuple):
    """What classification and the index need of a received dossier, as plain values."""

    agency: str
    area: str
    received: int  # epoch seconds
    due: int | None
    end: int | None  # when it ended (processed, withdrawn, refused or stopped)
    end_kind: int  # EndKind
    supplements: tuple[tuple[int, int | None], ...]  # (requested, provided) epoch seconds
    flags: int

    @property
    def latest(self) -> int:
        """The newest event time the facts record."""
        times = [self.received, self.end or 0]
        for requested, provided in self.supplements:
            times += [requested, provided or 0]
        return max(times)

    def supplements_before(self, point: int | None) -> tuple[int, bool]:
        """(requests made before `point`, waiting for the citizen at `point`); None = after every event."""
        count, waiting = 0, False
        for requested, provided in self.supplements:
            if point is None or requested < point:
                count += 1
                waiting = provided is None or (point is not None and provided >= point)
        return count, waiting


@dataclass(frozen=True, slots=True)
class PeriodClass:
    bucket: Bucket
    received_in_period: bool
    carried_over: bool
    end_kind: EndKind
    supplements: int

    @property
    def timely(self) -> bool | None:
        """Counts as early-or-on-time (True), late (False), or outside timeliness (None: stopped)."""
        if self.bucket is Bucket.STOPPED:
            return None
        if self.bucket is Bucket.SUPPLEMENT:
            return self.supplements <= SUPPLEMENTS_ON_TIME
        return self.bucket not in (Bucket.LATE, Bucket.OVERDUE)


def facts_of(dossier: Dossier) -> DossierFacts | None:
    """The dossier's facts, or None while it has not been received (then it is in no period's scope)."""
    if dossier.received_at is None:
        return None
    end_kind, end = _end(dossier)
    flags = _receipt_flags(dossier)
    if end_kind is EndKind.PROCESSED and dossier.electronic_result:
        flags |= ELECTRONIC_RESULT
    return DossierFacts(
        agency=dossier.agency_code,
        area=dossier.area_code,
        received=timestamp("received_at", dossier.received_at),
        due=None if dossier.due_at is None else timestamp("due_at", dossier.due_at),
        end=None if end is None else timestamp("end", end),
        end_kind=end_kind,
        supplements=tuple(
            (
                timestamp("requested_at", s.requested_at),
                None if s.provided_at is None else timestamp("provided_at", s.provided_at),
            )
            for s in dossier.supplements
        ),
        flags=flags,
    )


def classify_facts(facts: DossierFacts, start: int, end: int, clock: int) -> PeriodClass | None:
    """The bucket of `facts` in the period [start, end) (epoch seconds) seen at `clock` (a whole hour).

    For a period that has ended (`end <= clock`) the dossier is seen at the period's end; for the period
    still running it is seen after every event it records, its due date compared with `clock`."""
    if facts.received >= end or (facts.end is not None and facts.end < start):
        return None
    received_in = facts.received >= start
    if facts.end is not None and facts.end < end:
        kind = EndKind(facts.end_kind)
        if kind is EndKind.STOPPED:
            bucket = Bucket.STOPPED
        elif facts.due is None:
            bucket = Bucket.ON_TIME
        else:
            end_day, due_day = (facts.end + VN_OFFSET_S) // DAY_S, (facts.due + VN_OFFSET_S) // DAY_S
            bucket = (
                Bucket.EARLY if end_day < due_day else Bucket.ON_TIME if end_day == due_day else Bucket.LATE
            )
        return PeriodClass(bucket, received_in, not received_in, kind, len(facts.supplements))
    past = end <= clock
    count, waiting = facts.supplements_before(end if past else None)
    bucket = open_bucket(facts.due, end if past else clock) if not waiting else Bucket.SUPPLEMENT
    return PeriodClass(bucket, received_in, not received_in, EndKind.OPEN, count)


def open_bucket(due: int | None, reference: int) -> Bucket:
    if due is None or due >= reference + DUE_SOON_S:
        return Bucket.WITHIN_TIME
    return Bucket.DUE_SOON if due >= reference else Bucket.OVERDUE


def classify(dossier: Dossier, period: Period, now: datetime) -> PeriodClass | None:
    """The dossier's bucket in `period`, seen at `now` (truncated to the hour, as the index reads it)."""
    facts = facts_of(dossier)
    if facts is None:
        return None
    clock = timestamp("now", now) // HOUR_S * HOUR_S
    return classify_facts(facts, period.start_ts, period.end_ts, clock)


def _end(dossier: Dossier) -> tuple[EndKind, datetime | None]:
    status = dossier.status
    if status in (DossierStatus.RELEASING, DossierStatus.DONE):
        return EndKind.PROCESSED, dossier.finished_at or dossier.returned_at
    if status is DossierStatus.CANCELLED:
        return EndKind.WITHDRAWN, dossier.cancelled_at
    if status is DossierStatus.DENIED:
        return EndKind.REFUSED, dossier.refused_at
    if status is DossierStatus.UNRESOLVED:
        return EndKind.STOPPED, dossier.stopped_at
    return EndKind.OPEN, None


def _receipt_flags(dossier: Dossier) -> int:
    flags = 0
    if dossier.channel is Channel.ONLINE:
        flags |= ONLINE
        if dossier.vneid_authenticated:
            flags |= VNEID
    elif dossier.channel is Channel.POSTAL:
        flags |= POSTAL
    level = dossier.online_level
    if level is not None and level.value == "partial":
        flags |= ONLINE_PARTIAL
    elif level is not None and level.value == "full":
        flags |= ONLINE_FULL
    for present, bit in (
        (dossier.digitised, DIGITISED),
        (dossier.reused_data, REUSED),
        (dossier.from_national_store, NATIONAL_STORE),
        (dossier.synced_national, SYNCED),
        (dossier.fee_vnd > 0, FEE),
        (dossier.paid_online is not None, PAID_ONLINE),
        (dossier.rating is not None, RATED),
        (dossier.rating is not None and dossier.rating >= Rating.SATISFIED, SATISFIED),
        (dossier.complained or dossier.rating is Rating.UNSATISFIED, COMPLAINED),
    ):
        if present:
            flags |= bit
    return flags
