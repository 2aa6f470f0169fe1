"""A dossier as one flat row of the store (`Record`), to and from the `Dossier` model.

The `Dossier` model is the authority on what a valid dossier is; `parse_with_model` turns an incoming row
into a record through it, naming every faulty field. `fast_rows` takes the common well-formed rows of a
bulk import without the model's per-row cost and leaves the others to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from cityops.services.catalogue import OnlineLevel
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
    EndKind,
)
from cityops.services.dossiers.model import Dossier

COLUMNS: tuple[str, ...] = (
    "code",
    "procedure_code",
    "agency_code",
    "area_code",
    "channel",
    "online_level",
    "status",
    "status_at",
    "submitted_at",
    "received_at",
    "due_at",
    "due_origin",
    "finished_at",
    "returned_at",
    "refused_at",
    "cancelled_at",
    "stopped_at",
    "supplements",
    "fee_vnd",
    "paid_online",
    "flags",
    "rating",
)
Record = tuple[Any, ...]
C = {name: index for index, name in enumerate(COLUMNS)}
TIME_COLUMNS = (
    "status_at",
    "submitted_at",
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "refused_at",
    "cancelled_at",
    "stopped_at",
)
# The model's yes/no fields, packed in the `flags` column.
FLAG_BITS: dict[str, int] = {
    "digitised": 1,
    "reused_data": 2,
    "from_national_store": 4,
    "vneid_authenticated": 8,
    "electronic_result": 16,
    "synced_national": 32,
    "complained": 64,
}
MODEL_FIELDS = frozenset(Dossier.model_fields)
# One supplement request given as three columns (CSV, XLSX) instead of a `supplements` list.
SUPPLEMENT_PARTS = {
    "supplement_requested_at": "requested_at",
    "supplement_deadline": "deadline",
    "supplement_provided_at": "provided_at",
}
_LEVELS = {OnlineLevel.NONE: 2, OnlineLevel.PARTIAL: 3, OnlineLevel.FULL: 4}
_LEVEL_OF = {2: OnlineLevel.NONE, 3: OnlineLevel.PARTIAL, 4: OnlineLevel.FULL}


class RowError(ValueError):
    """A row the model refuses: each problem names its field."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


# -- model <-> record --------------------------------------------------------------------------------------


def _seconds(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def record_of(dossier: Dossier) -> Record:
    flags = 0
    for name, bit in FLAG_BITS.items():
        if getattr(dossier, name):
            flags |= bit
    supplements = None
    if dossier.supplements:
        supplements = orjson.dumps(
            [
                [_seconds(s.requested_at), _seconds(s.deadline), _seconds(s.provided_at)]
                for s in dossier.supplements
            ]
        ).decode()
    return (
        dossier.code,
        dossier.procedure_code,
        dossier.agency_code,
        dossier.area_code,
        int(dossier.channel),
        None if dossier.online_level is None else _LEVELS[dossier.online_level],
        int(dossier.status),
        _seconds(dossier.status_at),
        _seconds(dossier.submitted_at),
        _seconds(dossier.received_at),
        _seconds(dossier.due_at),
        0 if dossier.due_origin == "source" else 1,
        _seconds(dossier.finished_at),
        _seconds(dossier.returned_at),
        _seconds(dossier.refused_at),
        _seconds(dossier.cancelled_at),
        _seconds(dossier.stopped_at),
        supplements,
        dossier.fee_vnd,
        None if dossier.paid_online is None else int(dossier.paid_online),
        flags,
        None if dossier.rating is None else int(dossier.rating),
    )


def model_input(record: Sequence[Any]) -> dict[str, Any]:
    """The record as the model's input (epoch seconds for times, which the model reads as UTC instants)."""
    data: dict[str, Any] = {}
    for name in COLUMNS:
        value = record[C[name]]
        if name == "flags":
            for flag, bit in FLAG_BITS.items():
                data[flag] = bool(value & bit)
        elif name == "supplements":
            if value:
                data[name] = [
                    {"requested_at": r, "deadline": d, "provided_at": p} for r, d, p in orjson.loads(value)
                ]
        elif name == "online_level":
            data[name] = None if value is None else _LEVEL_OF[value]
        elif name == "due_origin":
            data[name] = "source" if value == 0 else "calendar"
        elif value is not None:
            data[name] = value
    return data


def dossier_of(record: Sequence[Any]) -> Dossier:
    return Dossier.model_validate(model_input(record))


def facts_of_record(record: Sequence[Any]) -> DossierFacts | None:
    """`classification.facts_of(dossier_of(record))`, without building the model."""
    received = record[C["received_at"]]
    if received is None:
        return None
    status = record[C["status"]]
    if status in (9, 10):
        kind, end = EndKind.PROCESSED, record[C["finished_at"]] or record[C["returned_at"]]
    elif status == 7:
        kind, end = EndKind.WITHDRAWN, record[C["cancelled_at"]]
    elif status == 3:
        kind, end = EndKind.REFUSED, record[C["refused_at"]]
    elif status == 8:
        kind, end = EndKind.STOPPED, record[C["stopped_at"]]
    else:
        kind, end = EndKind.OPEN, None
    flags = facts_flags(record)
    if kind is EndKind.PROCESSED and record[C["flags"]] & FLAG_BITS["electronic_result"]:
        flags |= ELECTRONIC_RESULT
    raw = record[C["supplements"]]
    supplements = tuple((r, p) for r, _, p in orjson.loads(raw)) if raw else ()
    return DossierFacts(
        record[C["agency_code"]],
        record[C["area_code"]],
        received,
        record[C["due_at"]],
        end,
        kind,
        supplements,
        flags,
    )


def facts_flags(record: Sequence[Any]) -> int:
    """The receipt bits of `classification` (ELECTRONIC_RESULT aside, which depends on how it ended)."""
    channel, level, stored = record[C["channel"]], record[C["online_level"]], record[C["flags"]]
    rating = record[C["rating"]]
    flags = 0
    if channel == 2:
        flags |= ONLINE
        if stored & FLAG_BITS["vneid_authenticated"]:
            flags |= VNEID
    elif channel == 3:
        flags |= POSTAL
    if level == 3:
        flags |= ONLINE_PARTIAL
    elif level == 4:
        flags |= ONLINE_FULL
    for name, bit in (
        ("digitised", DIGITISED),
        ("reused_data", REUSED),
        ("from_national_store", NATIONAL_STORE),
        ("synced_national", SYNCED),
    ):
        if stored & FLAG_BITS[name]:
            flags |= bit
    if record[C["fee_vnd"]] > 0:
        flags |= FEE
    if record[C["paid_online"]] is not None:
        flags |= PAID_ONLINE
    if rating is not None:
        flags |= RATED
        if rating >= 2:
            flags |= SATISFIED
    if stored & FLAG_BITS["complained"] or rating == 1:
        flags |= COMPLAINED
    return flags


# -- parsing rows ------------------------------------------------------------------------------------------


def parse_with_model(row: Mapping[str, Any]) -> Record:
    try:
        return record_of(Dossier.model_validate(row))
    except ValidationError as error:
        raise RowError(_problems(error)) from None


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if not loc and ": " in message:  # a model-level check names its field first
            loc, message = message.split(": ", 1)
        problems.append((loc or "row", message))
    return problems
