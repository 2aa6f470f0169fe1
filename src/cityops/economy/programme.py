"""The smart-city programme's portfolio: projects with partner, scope, budget, milestones and status,
each linked to the cityops indicators that show its effect; and the localities it reaches, pilots
(wave 0) first, then rollout waves."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, delete, insert, select

from cityops.core import audit
from cityops.core.domain import LANGUAGES
from cityops.core.text_limits import Key, Label
from cityops.economy.schema import milestones, programme_projects, rollout

Status = Literal["planned", "piloting", "rolling_out", "done", "on_hold"]


def _title(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language(s) {unknown}; use {list(LANGUAGES)}")
    if not value.get("vi", "").strip():
        raise ValueError("the Vietnamese title (vi) is required")
    return {lang: value.get(lang) or value["vi"] for lang in LANGUAGES}


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: dict[str, Label]
    due: date
    done: date | None = None

    _check_title = field_validator("title")(_title)


class ProgrammeProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")
    title: dict[str, Label]
    partner: str = Field(min_length=1, max_length=300)
    scope: str = Field(min_length=1, max_length=2000)
    budget_bn_vnd: float = Field(ge=0, allow_inf_nan=False)
    status: Status
    indicators: list[Key] = Field(
        default_factory=list, description="ids of cityops indicators (GET /api/indicators)"
    )
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=100)
    simulated: bool = False

    _check_title = field_validator("title")(_title)


class RolloutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_code: str = Field(max_length=32)
    wave: int = Field(ge=0, le=20, description="0 = pilot locality")
    starts: date


def put_project(conn: Connection, item: ProgrammeProjectIn, actor: str) -> None:
    """Add or replace a project with its milestones."""
    before = project(conn, item.code)
    conn.execute(delete(milestones).where(milestones.c.project_code == item.code))
    conn.execute(delete(programme_projects).where(programme_projects.c.code == item.code))
    row = item.model_dump(exclude={"milestones"})
    conn.execute(insert(programme_projects), [row])
    if item.milestones:
        conn.execute(
            insert(milestones),
            [
                {
                    "project_code": item.code,
                    "title": m.title,
                    "due": m.due.isoformat(),
                    "done": None if m.done is None else m.done.isoformat(),
                }
                for m in item.milestones
            ],
        )
    audit.record(
        conn,
        actor,
        "programme_project.put",
        f"programme_project:{item.code}",
        before,
        project(conn, item.code),
    )


def project(conn: Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(select(programme_projects).where(programme_projects.c.code == code)).first()
    if row is None:
        return None
    found = dict(row._mapping)
    found["milestones"] = [
        dict(m._mapping)
        for m in conn.execute(
            select(milestones).where(milestones.c.project_code == code).order_by(milestones.c.due)
        )
    ]
    return found


def portfolio(conn: Connection, today: date) -> list[dict[str, Any]]:
    """Every project with its milestones, the late ones (due before `today`, not done) marked."""
    codes = list(conn.scalars(select(programme_projects.c.code).order_by(programme_projects.c.code)))
    result = []
    for code in codes:
        found = project(conn, code)
        assert found is not None
        for milestone in found["milestones"]:
            milestone["late"] = milestone["done"] is None and milestone["due"] < today.isoformat()
        found["late_milestones"] = sum(m["late"] for m in found["milestones"])
        result.append(found)
    return result


def put_rollout(conn: Connection, items: list[RolloutIn], actor: str) -> None:
    """Replace the localities and their waves."""
    before = localities(conn)
    conn.execute(delete(rollout))
    if items:
        conn.execute(insert(rollout), [{**i.model_dump(), "starts": i.starts.isoformat()} for i in items])
    audit.record(conn, actor, "programme_rollout.put", "programme_rollout", before, localities(conn))


def localities(conn: Connection) -> list[dict[str, Any]]:
    query = select(rollout).order_by(rollout.c.wave, rollout.c.area_code)
    return [dict(row._mapping) for row in conn.execute(query)]
