"""Investment projects (project, investor and country, registered and disbursed capital, sector,
industrial park or area, status), their rankings, and what an investment office publishes about a
country as a whole."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, case, func, insert, select

from cityops.core import audit
from cityops.core.text_limits import Key
from cityops.economy.countries import country_name
from cityops.economy.parks import PARK_IDS
from cityops.economy.schema import country_totals, projects

Status = Literal["licensed", "under_construction", "operating", "suspended"]
SECTORS = (
    "electronics",
    "textiles_garments",
    "furniture_wood",
    "mechanical",
    "chemicals_plastics",
    "food_processing",
    "logistics",
    "real_estate",
    "services",
    "other",
)
RANKED_BY = {
    "country": projects.c.country,
    "sector": projects.c.sector,
    "park": projects.c.park,
    "area": projects.c.area_code,
}


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    investor: str = Field(min_length=1, max_length=300)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 (JP, KR, SG...)")
    sector: Key
    park: Key | None = Field(default=None, description="an industrial park id (vsip-1...), if inside one")
    area_code: str | None = Field(default=None, max_length=32)
    registered_musd: float = Field(ge=0, allow_inf_nan=False)
    disbursed_musd: float = Field(ge=0, allow_inf_nan=False)
    status: Status
    licensed_on: date
    source: str = Field(min_length=1, max_length=300)
    simulated: bool = False

    @field_validator("sector")
    @classmethod
    def _sector(cls, value: str) -> str:
        if value not in SECTORS:
            raise ValueError(f"use one of {list(SECTORS)}")
        return value

    @field_validator("park")
    @classmethod
    def _park(cls, value: str | None) -> str | None:
        if value is not None and value not in PARK_IDS:
            raise ValueError(f"unknown industrial park; known: {sorted(PARK_IDS)}")
        return value

    @model_validator(mode="after")
    def _disbursed(self) -> ProjectIn:
        if self.disbursed_musd > self.registered_musd:
            raise ValueError("disbursed_musd cannot exceed registered_musd")
        return self


def add(conn: Connection, items: list[ProjectIn], actor: str) -> list[int]:
    ids = []
    for item in items:
        row = item.model_dump()
        row["licensed_on"] = item.licensed_on.isoformat()
        new_id = conn.execute(insert(projects).values(row)).inserted_primary_key
        assert new_id is not None
        ids.append(int(new_id[0]))
        audit.record(conn, actor, "economy_project.create", f"economy_project:{new_id[0]}", None, row)
    return ids


def listed(conn: Connection, country: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    query = select(projects).order_by(projects.c.registered_musd.desc()).limit(limit)
    if country is not None:
        query = query.where(projects.c.country == country)
    return [dict(row._mapping) for row in conn.execute(query)]


def ranking(conn: Connection, by: str, lang: str) -> list[dict[str, Any]]:
    """Projects counted and capital summed per country, sector, park or area, largest registered first."""
    key = RANKED_BY[by]
    query = (
        select(
            key.label("key"),
            func.count().label("projects"),
            func.sum(projects.c.registered_musd).label("registered_musd"),
            func.sum(projects.c.disbursed_musd).label("disbursed_musd"),
            func.max(case((projects.c.simulated, 1), else_=0)).label("simulated"),
        )
        .where(key.is_not(None))
        .group_by(key)
        .order_by(func.sum(projects.c.registered_musd).desc(), key)
    )
    rows = []
    for rank, row in enumerate(conn.execute(query), start=1):
        rows.append(
            {
                "rank": rank,
                "key": row.key,
                "name": country_name(row.key, lang) if by == "country" else row.key,
                "projects": row.projects,
                "registered_musd": row.registered_musd,
                "disbursed_musd": row.disbursed_musd,
                "simulated": bool(row.simulated),
            }
        )
    return rows


def published_countries(conn: Connection, lang: str) -> list[dict[str, Any]]:
    """What investment offices published about countries as a whole (Japan: 2nd of 65, 327 projects)."""
    query = select(country_totals).order_by(country_totals.c.as_of.desc(), country_totals.c.rank)
    return [{**dict(row._mapping), "name": country_name(row.country, lang)} for row in conn.execute(query)]
