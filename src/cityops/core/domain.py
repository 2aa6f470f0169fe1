"""What every domain package (traffic, wifi, services, ...) hands the kernel.

A domain is discovered through the `cityops.domains` entry point group and described by a `Domain`
value; the kernel never imports a domain by name. Like a Home Assistant integration, each domain folder
holds `manifest.json`, `translations/{vi,en,ja}.json`, its entity types, ingestion, indicators and router.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cityops.core.access.accounts import Role
    from cityops.core.indicators import Indicator
    from cityops.core.kernel import Kernel
    from cityops.core.opendata import Dataset
    from cityops.core.rules.definitions import RuleTemplate

LANGUAGES = ("vi", "en", "ja")
Text = dict[str, str]  # language -> text


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str
    title: Text


@dataclass(frozen=True)
class EntityType:
    """An entity type on the map; `type` follows the Smart Data Models name (Camera, AccessPoint...)."""

    type: str
    title: Text
    color: str
    metrics: tuple[MetricSpec, ...]


@dataclass(frozen=True)
class SampleEntity:
    id: str
    name: str
    lon: float
    lat: float
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AgencyName:
    """An agency incidents are assigned to: its code (accounts and routes use it) and its name."""

    code: str
    name: Text


@dataclass(frozen=True)
class Panel:
    """A dashboard panel a domain contributes: an ES module under the domain's `static/` folder.

    The module exports `mount(root, context)`; the dashboard gives it an empty element and the shared
    map, catalogue, signed-in principal and live events (see `web/static/js/panels.js`).
    """

    id: str
    module: str  # path below `<domain folder>/static/`
    title_key: str  # a key of the domain's translation files
    order: int = 100  # tabs are laid out by (order, domain name): the room's main screens first


@dataclass(frozen=True)
class BriefingFigure:
    """One figure of the monthly leadership briefing, with where it comes from. `value` is formatted by
    the briefing in its language; `text` stands instead where the figure is not a number (a status)."""

    label: str
    value: float | None = None
    unit: str = ""
    change_pct: float | None = None  # on the same period a year earlier
    qualifier: str = ""  # "over", "about"... in the briefing's language
    text: str = ""
    source: str = ""
    simulated: bool = False


@dataclass(frozen=True)
class BriefingSection:
    """A page of the monthly leadership briefing (`cityops briefing`), in the language asked for."""

    key: str
    title: str
    figures: tuple[BriefingFigure, ...]
    notes: tuple[str, ...] = ()
    order: int = 100


@dataclass(frozen=True)
class ViewEntity:
    """One entity of a read-only NGSI-LD view: its attributes (besides `name` and `location`) in the
    NGSI-LD normalized form, keyed by their short names (`{"severity": {"type": "Property", ...}}`)."""

    id: str  # the URN, `urn:ngsi-ld:<view type>:<id>`
    name: str
    attributes: dict[str, dict[str, Any]]
    lon: float | None = None
    lat: float | None = None
    area_codes: tuple[str, ...] = ()  # its ward (and legacy ward): an `NGSILD-Tenant` of those sees it
    created_ms: int = 0
    modified_ms: int = 0


@dataclass(frozen=True)
class EntityView:
    """A read-only NGSI-LD entity type made from a domain's own tables (citizens' reports as Open311
    service requests, economic series as KPIs...), served by `/ngsi-ld/v1/entities` beside the
    registry's entities; writes to it are refused (docs/ngsild.md)."""

    type: str  # the Smart Data Models type
    # (kernel, ids) -> the view's entities: those ids (URNs), or all of them (ids None), in a stable order.
    entities: Callable[[Kernel, frozenset[str] | None], Iterable[ViewEntity]]
    # Roles that may read it; None: every NGSI-LD reader.
    readers: frozenset[Role] | None = None


def row_numbers(ids: Iterable[str], prefix: str) -> list[int]:
    """The integer keys in ids of the form `<prefix><n>` (a view over a table with integer keys)."""
    found = (i.removeprefix(prefix) for i in ids if i.startswith(prefix))
    return [int(n) for n in found if n.isdigit() and int(n) < 2**31]


def ngsi_property(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def ngsi_time(ms: int) -> dict[str, Any]:
    """A Property whose value is an ISO 8601 UTC date-time (Smart Data Models' `format: date-time`)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
    return ngsi_property(moment.replace("+00:00", "Z"))


def ngsi_relationship(urn: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": urn}


@dataclass(frozen=True)
class Domain:
    name: str
    folder: Path
    entity_types: tuple[EntityType, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    # Builds the domain's FastAPI router; typed loosely so the kernel does not import the web stack.
    router: Callable[[Kernel], Any] | None = None
    sample_entities: Callable[[], Iterable[tuple[str, SampleEntity]]] | None = None
    simulator: Callable[[Kernel], Coroutine[Any, Any, None]] | None = None
    # Half-filled alert rules the operator can start from (`POST /api/rules` with `template`).
    rule_templates: tuple[RuleTemplate, ...] = ()
    # Path prefixes below `/api/<name>` open to everyone without signing in (a citizens' form): the API
    # layer neither authenticates nor checks CSRF there, so those routes must not act for anybody.
    public_paths: tuple[str, ...] = ()
    # Agency officers may also send changes to the router, which keeps them to their scope itself. On the
    # other routes the API layer leaves the checked `Principal` on `request.state.principal`.
    scoped_officers: bool = False
    # Route paths below `/api/<name>` (as declared, e.g. "/cameras/{camera_id}/snapshot") where device
    # tokens may send (unsafe methods) beside admins and operators: what a domain's workers upload.
    device_paths: tuple[str, ...] = ()
    panels: tuple[Panel, ...] = ()
    # Builds the domain's `cityops <name> ...` commands (a Typer app); loosely typed like `router`.
    commands: Callable[[], Any] | None = None
    # What the domain keeps while it runs (an index in memory, worker pools, connections), as a Home
    # Assistant integration's setup/unload pair: `setup` is called once when the server starts, before
    # any router is built, and returns the state; the kernel keeps it in `kernel.states[<name>]` (indicator
    # formulas read it there) and hands it to `stop` (in a worker thread) when the server stops, to flush
    # and close it. Domains keep no state in module globals.
    # Open data the domain publishes (`cityops.core.opendata`): listed in the DCAT-AP catalogue and
    # downloadable as CSV, GeoJSON and Parquet through the personal-data filter.
    datasets: tuple[Dataset, ...] = ()
    setup: Callable[[Kernel], Any] | None = None
    stop: Callable[[Kernel, Any], None] | None = None
    # The domain's pages of the monthly briefing: (kernel, year, month, language) -> sections. A domain
    # without it gets a page of its indicators.
    briefing: Callable[[Kernel, int, int, str], Sequence[BriefingSection]] | None = None
    # The agencies the domain knows by name (read when asked: a configuration file may change them), so
    # that operators pick an agency from a list and read names, not codes (GET /api/agencies).
    agencies: Callable[[], Iterable[AgencyName]] | None = None
    # Read-only NGSI-LD entity types the domain serves from its own tables (`EntityView`).
    entity_views: tuple[EntityView, ...] = ()

    @property
    def manifest(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        return loaded

    @property
    def title(self) -> Text:
        return {lang: self.translations(lang).get("title", self.name) for lang in LANGUAGES}

    @property
    def static_folder(self) -> Path | None:
        """Files the dashboard serves under `/static/domains/<name>/` (panels' modules, styles)."""
        folder = self.folder / "static"
        return folder if folder.is_dir() else None

    def translations(self, lang: str) -> dict[str, str]:
        path = self.folder / "translations" / f"{lang}.json"
        if not path.exists():
            return {}
        loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return loaded


def translated(folder: Path, key: str) -> Text:
    """One key of a domain's translation files, in every language (the key itself where missing)."""
    result = {}
    for lang in LANGUAGES:
        path = folder / "translations" / f"{lang}.json"
        texts = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        result[lang] = texts.get(key, key)
    return result


class DomainError(RuntimeError):
    pass


def discover_domains(names: list[str] | None = None) -> list[Domain]:
    """Load the installed domains (entry point group `cityops.domains`), optionally only `names`."""
    found = {ep.name: ep for ep in entry_points(group="cityops.domains")}
    wanted = sorted(found) if names is None else names
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise DomainError(f"unknown domain(s) {unknown}; installed: {sorted(found)}")
    domains = []
    for name in wanted:
        domain = found[name].load()
        if not isinstance(domain, Domain):
            raise DomainError(f"entry point {name!r} does not point at a cityops Domain")
        domains.append(domain)
    return domains
