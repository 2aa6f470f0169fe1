"""Open data: datasets the city publishes, their DCAT-AP catalogue, and the personal-data filter every
published row goes through.

A dataset declares its columns; only declared columns ever leave (an allow-list), a column whose name
says it holds personal data (a citizen's contact, a wifi user, a stream credential) cannot be declared at
all, and every text value is screened for telephone numbers, e-mail addresses, MAC addresses and
credentials in URLs, which are replaced by `[redacted]`. The exporters (`cityops.api.opendata`) take rows
only from `public_rows`, so no dataset can hand anything past the filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any, Literal

from sqlalchemy import Connection

from cityops.core.domain import Text

ColumnType = Literal["string", "integer", "number", "boolean", "datetime", "date"]
Frequency = Literal["continuous", "hourly", "daily", "weekly", "monthly", "quarterly", "annual"]
REDACTED = "[redacted]"
VIETNAM = timezone(timedelta(hours=7))

# DCAT's accrual periodicity, as the EU Publications Office's frequency vocabulary names it.
FREQUENCY_URIS: dict[Frequency, str] = {
    "continuous": "http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT",
    "hourly": "http://publications.europa.eu/resource/authority/frequency/HOURLY",
    "daily": "http://publications.europa.eu/resource/authority/frequency/DAILY",
    "weekly": "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
    "monthly": "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
    "quarterly": "http://publications.europa.eu/resource/authority/frequency/QUARTERLY",
    "annual": "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
}
LICENCES = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "ODbL-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
}

# Words of a column name (snake_case or camelCase) that say "personal data" or "secret".
_PERSONAL_WORDS = frozenset(
    [
        "contact",
        "phone",
        "tel",
        "telephone",
        "email",
        "mail",
        "msisdn",
        "mac",
        "username",
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "credential",
        "credentials",
        "ip",
        "owner",
        "reporter",
        "cccd",
        "cmnd",
    ]
)
_PERSONAL_PAIRS = frozenset(
    {
        ("stream", "url"),
        ("user", "name"),
        ("full", "name"),
        ("national", "id"),
        ("calling", "station"),
        ("e", "mail"),
        ("citizen", "name"),
        ("client", "address"),
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Vietnamese numbers: 0 or +84 then 9-10 digits, written with spaces, dots or dashes between groups.
_PHONE = re.compile(r"(?<![\w])(\+?84|0)([\s.-]?\d){8,10}(?![\w])")
_MAC = re.compile(r"(?<![0-9A-Fa-f])([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])")
_URL_CREDENTIALS = re.compile(r"([a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
_SECRET_PARAMETER = re.compile(
    r"([?&](?:password|passwd|pwd|pass|token|key|secret|auth|signature)=)[^&\s#]+", re.IGNORECASE
)


class OpenDataError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    title: Text


@dataclass(frozen=True)
class Period:
    """Whole days, Vietnam's civil days (UTC+7), both ends included."""

    start: date
    end: date

    def bounds_ms(self) -> tuple[int, int]:
        """The period's first and past-the-last millisecond (epoch)."""
        first = datetime(self.start.year, self.start.month, self.start.day, tzinfo=VIETNAM)
        last = datetime(self.end.year, self.end.month, self.end.day, tzinfo=VIETNAM) + timedelta(days=1)
        return int(first.timestamp() * 1000), int(last.timestamp() * 1000)


@dataclass(frozen=True)
class Dataset:
    """One published dataset. `rows(conn, period)` yields dicts keyed by column name (extra keys are
    dropped by the filter); with `geometry`, rows carry `lon`/`lat` (WGS 84) for the GeoJSON export."""

    id: str
    title: Text
    description: Text
    columns: tuple[Column, ...]
    rows: Callable[[Connection, Period], Iterable[dict[str, Any]]]
    frequency: Frequency
    keywords: tuple[str, ...] = ()
    geometry: bool = False
    licence: str = "CC-BY-4.0"
    # How far back one download reaches (days); the newest `window_days` are the default period.
    window_days: int = 31
    theme: str = "http://publications.europa.eu/resource/authority/data-theme/GOVE"

    def __post_init__(self) -> None:
        check_dataset(self)


def check_dataset(dataset: Dataset) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_.-]{1,79}", dataset.id):
        raise OpenDataError(f"dataset id {dataset.id!r}: lower-case letters, digits, '_', '.', '-'")
    names = [c.name for c in dataset.columns]
    if len(set(names)) != len(names):
        raise OpenDataError(f"dataset {dataset.id}: a column is declared twice")
    personal = [name for name in names if personal_name(name)]
    if personal:
        raise OpenDataError(f"dataset {dataset.id}: columns {personal} hold personal data or secrets")
    if dataset.geometry and not {"lon", "lat"} <= set(names):
        raise OpenDataError(f"dataset {dataset.id}: a dataset with geometry declares lon and lat")
    if dataset.licence not in LICENCES:
        raise OpenDataError(f"dataset {dataset.id}: licence {dataset.licence!r}; known: {sorted(LICENCES)}")


def personal_name(name: str) -> bool:
    """Whether a column's name says it holds personal data or a secret ("contactPhone", "client_mac")."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_").split("_")
    return any(w in _PERSONAL_WORDS for w in words) or any(p in _PERSONAL_PAIRS for p in pairwise(words))


def scrub(text: str) -> str:
    """A text value with anything that identifies a person or opens a system replaced."""
    text = _URL_CREDENTIALS.sub(r"\1" + REDACTED + "@", text)
    text = _SECRET_PARAMETER.sub(r"\1" + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _MAC.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


def _clean(column: Column, value: Any) -> Any:
    if value is None:
        return None
    match column.type:
        case "string":
            return scrub(str(value))
        case "integer":
            return int(value)
        case "number":
            number = float(value)
            return number if number == number and abs(number) != float("inf") else None
        case "boolean":
            return bool(value)
        case "datetime":
            if isinstance(value, int | float):
                value = datetime.fromtimestamp(value / 1000, UTC)
            if not isinstance(value, datetime):
                raise OpenDataError(f"column {column.name}: {type(value).__name__} is not a datetime")
            return value
        case "date":
            if not isinstance(value, date):
                raise OpenDataError(f"column {column.name}: {type(value).__name__} is not a date")
            return value


def public_rows(dataset: Dataset, conn: Connection, period: Period) -> Iterator[dict[str, Any]]:
    """The dataset's rows as they may be published: declared columns only, each value typed and screened."""
    for row in dataset.rows(conn, period):
        yield {column.name: _clean(column, row.get(column.name)) for column in dataset.columns}


def catalogue(
    datasets: Iterable[Dataset],
    base_url: str,
    publisher: Text,
    lang: str,
    modified: datetime,
    simulated: bool,
) -> dict[str, Any]:
    """A DCAT-AP catalogue (JSON-LD) of the datasets, each with its CSV, GeoJSON and Parquet
    distributions. `simulated`: the data come from the demo's simulators, and every dataset says so."""
    entries = []
    for dataset in datasets:
        formats = [("csv", "text/csv", "CSV"), ("parquet", "application/vnd.apache.parquet", "PARQUET")]
        if dataset.geometry:
            formats.insert(1, ("geojson", "application/geo+json", "GEOJSON"))
        entries.append(
            {
                "@id": f"{base_url}/datasets/{dataset.id}",
                "@type": "dcat:Dataset",
                "dct:identifier": dataset.id,
                "dct:title": _languages(dataset.title),
                "dct:description": _languages(dataset.description),
                "dcat:keyword": list(dataset.keywords),
                "dcat:theme": {"@id": dataset.theme},
                "dct:publisher": {"@type": "foaf:Agent", "foaf:name": _languages(publisher)},
                "dct:license": {"@id": LICENCES[dataset.licence]},
                "dct:accrualPeriodicity": {"@id": FREQUENCY_URIS[dataset.frequency]},
                "dct:temporal": {
                    "@type": "dct:PeriodOfTime",
                    "dcat:startDate": "rolling",
                    "cityops:windowDays": dataset.window_days,
                },
                "dct:modified": modified.isoformat(),
                "dct:language": [
                    {"@id": f"http://publications.europa.eu/resource/authority/language/{c}"}
                    for c in ("VIE", "ENG", "JPN")
                ],
                "dcat:distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "dcat:accessURL": {"@id": f"{base_url}/datasets/{dataset.id}.{suffix}"},
                        "dcat:downloadURL": {"@id": f"{base_url}/datasets/{dataset.id}.{suffix}"},
                        "dcat:mediaType": media,
                        "dct:format": {
                            "@id": f"http://publications.europa.eu/resource/authority/file-type/{name}"
                        },
                        "dct:license": {"@id": LICENCES[dataset.licence]},
                    }
                    for suffix, media, name in formats
                ],
                "cityops:simulated": simulated,
                "cityops:columns": [
                    {"name": c.name, "type": c.type, "title": c.title.get(lang, c.name)}
                    for c in dataset.columns
                ],
            }
        )
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "cityops": f"{base_url}/terms#",
        },
        "@id": f"{base_url}/catalog",
        "@type": "dcat:Catalog",
        "dct:title": _languages(
            {"vi": "Dữ liệu mở của thành phố", "en": "The city's open data", "ja": "市のオープンデータ"}
        ),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": _languages(publisher)},
        "dct:modified": modified.isoformat(),
        "dcat:dataset": entries,
    }


def _languages(text: Text) -> list[dict[str, str]]:
    return [{"@language": lang, "@value": value} for lang, value in text.items()]
