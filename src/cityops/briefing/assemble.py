"""Gathering the briefing's pages: operations from the kernel's alerts and incidents, then each
domain's pages (its `briefing` hook, or a page of its indicators)."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

from sqlalchemy import Select, func, select

from cityops.briefing.texts import TEXTS, number
from cityops.core.domain import BriefingFigure, BriefingSection, Domain
from cityops.core.indicators import Inputs
from cityops.core.kernel import Kernel
from cityops.core.local_time import local_date_time_ms
from cityops.core.schema import entities
from cityops.core.schema_operations import alerts, incidents

VN = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            moment = datetime.strptime(text, "%Y-%m")
        except ValueError:
            raise ValueError(f"{text!r} is not a month: write YYYY-MM (2026-11)") from None
        return cls(moment.year, moment.month)

    @property
    def start_ms(self) -> int:
        return int(datetime(self.year, self.month, 1, tzinfo=VN).timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        days = calendar.monthrange(self.year, self.month)[1]
        return self.start_ms + days * 86_400_000


def sections(kernel: Kernel, month: Month, lang: str, simulated: bool) -> list[BriefingSection]:
    simulated = simulated or _has_simulated_entities(kernel)
    found = [_operations(kernel, month, lang)]
    as_of_ms = min(kernel.now_ms(), month.end_ms - 1)
    for domain in kernel.domains:
        if domain.briefing is not None:
            found.extend(domain.briefing(kernel, month.year, month.month, lang))
        elif domain.indicators:
            found.append(_indicators(kernel, domain, lang, as_of_ms, simulated))
    return sorted(found, key=lambda s: s.order)


def _operations(kernel: Kernel, month: Month, lang: str) -> BriefingSection:
    texts = TEXTS[lang]
    start, end = month.start_ms, month.end_ms
    with kernel.engine.connect() as conn:

        def count(query: Select[Any]) -> float:
            return float(conn.scalar(query) or 0)

        raised = count(select(func.count()).where(alerts.c.raised_ms >= start, alerts.c.raised_ms < end))
        opened = count(
            select(func.count()).where(incidents.c.created_ms >= start, incidents.c.created_ms < end)
        )
        resolved = count(
            select(func.count()).where(incidents.c.resolved_ms >= start, incidents.c.resolved_ms < end)
        )
        still_open = count(
            select(func.count()).where(
                incidents.c.created_ms < end,
                (incidents.c.resolved_ms.is_(None)) | (incidents.c.resolved_ms >= end),
            )
        )
    source = texts["operations_source"]
    figures = tuple(
        BriefingFigure(texts[key], value, source=source)
        for key, value in (
            ("alerts_raised", raised),
            ("incidents_opened", opened),
            ("incidents_resolved", resolved),
            ("incidents_open", still_open),
        )
    )
    return BriefingSection("operations", texts["operations"], figures, order=0)


def _indicators(kernel: Kernel, domain: Domain, lang: str, as_of_ms: int, simulated: bool) -> BriefingSection:
    texts = TEXTS[lang]
    figures = []
    with kernel.engine.connect() as conn:
        for indicator in domain.indicators:
            value = indicator.formula(Inputs(conn, as_of_ms, kernel.states))
            target = (
                ""
                if indicator.target is None
                else texts["target"].format(target=number(indicator.target, lang))
            )
            figures.append(
                BriefingFigure(
                    label=indicator.title[lang],
                    value=value,
                    unit=unit_text(indicator.unit, lang),
                    text=target,
                    source=texts["indicators_source"].format(id=indicator.id),
                    simulated=simulated,
                )
            )
    as_of = local_date_time_ms(as_of_ms, lang)
    return BriefingSection(
        domain.name,
        domain.title[lang],
        tuple(figures),
        notes=(texts["indicators_note"].format(time=as_of),),
        # The pages follow the dashboard's tabs (the operations room's main screens first).
        order=min((panel.order for panel in domain.panels), default=40),
    )


def unit_text(unit: str, lang: str) -> str:
    """A unit as the dashboard writes it (`dossiers` → `hồ sơ`), from the web layer's translations when
    it is installed."""
    path = resources.files("cityops") / "web" / "translations" / f"{lang}.json"
    try:
        texts = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return unit
    found = texts.get(f"unit.{unit}", unit)
    return found if isinstance(found, str) else unit


def _has_simulated_entities(kernel: Kernel) -> bool:
    """Whether the store holds the demo's sample entities (marked `simulated` in their attributes)."""
    with kernel.engine.connect() as conn:
        for attributes in conn.scalars(select(entities.c.attributes).limit(5000)):
            if isinstance(attributes, dict) and attributes.get("simulated") is True:
                return True
    return False
