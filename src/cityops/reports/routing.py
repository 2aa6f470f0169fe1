"""Which agency is in charge of a report: the routing table (`routing.toml`) of category × area → agency.

The most specific route wins: a named category before "*", then the area nearest the report (a ward before
its district, before the province, in whichever scheme matches first); otherwise the default agency.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cityops.core.access.accounts import AGENCY_PATTERN
from cityops.core.rules.scope import AreaTree

DEFAULT_TABLE = Path(__file__).parent / "routing.toml"
TABLE_VARIABLE = "CITYOPS_REPORTS_ROUTING"
ANY_CATEGORY = "*"


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    severity: Literal["critical", "high", "medium", "low", "informational"] = "low"
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)

    def title(self, lang: str) -> str:
        return {"vi": self.vi, "en": self.en, "ja": self.ja}.get(lang, self.vi)


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str
    area: str = Field(min_length=1, max_length=32)
    agency: str = Field(pattern=AGENCY_PATTERN.pattern)


class Agency(BaseModel):
    """An agency's name for people (the code stays for accounts and routes)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=AGENCY_PATTERN.pattern)
    vi: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)
    ja: str = Field(min_length=1, max_length=200)

    def name(self, lang: str) -> str:
        return {"vi": self.vi, "en": self.en, "ja": self.ja}.get(lang, self.vi)


class RoutingTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_agency: str = Field(pattern=AGENCY_PATTERN.pattern)
    categories: list[Category] = Field(min_length=1)
    routes: list[Route] = Field(default_factory=list)
    agencies: list[Agency] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_categories(self) -> RoutingTable:
        codes = [c.code for c in self.categories]
        if len(set(codes)) != len(codes):
            raise ValueError("categories: a code appears twice")
        unknown = {r.category for r in self.routes} - {*codes, ANY_CATEGORY}
        if unknown:
            raise ValueError(f"routes: unknown categories {sorted(unknown)}; known: {codes}")
        return self

    @classmethod
    def load(cls, path: Path | None = None) -> RoutingTable:
        path = path or Path(os.environ.get(TABLE_VARIABLE) or DEFAULT_TABLE)
        with path.open("rb") as file:
            return cls.model_validate(tomllib.load(file))

    def agency_name(self, code: str | None, lang: str) -> str:
        """The agency's name in `lang`; its code where the table names it not."""
        if code is None:
            return ""
        agency = next((a for a in self.agencies if a.code == code), None)
        return agency.name(lang) if agency else code

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def agency_for(self, category: str, area_codes: tuple[str | None, ...], tree: AreaTree) -> str:
        """The agency in charge of a report of `category` located in `area_codes` (2025 and legacy)."""
        chains = [tree.ancestry(code) for code in area_codes if code is not None]
        best: tuple[int, int, str] | None = None
        for route in self.routes:
            if route.category not in (category, ANY_CATEGORY):
                continue
            distance = min((chain.index(route.area) for chain in chains if route.area in chain), default=None)
            if distance is None:
                continue
            rank = (0 if route.category == category else 1, distance, route.agency)
            if best is None or rank < best:
                best = rank
        return self.default_agency if best is None else best[2]
