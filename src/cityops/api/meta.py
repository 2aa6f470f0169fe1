"""What the dashboard needs to know about itself: domains, translations, indicators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Request

from cityops import __version__
from cityops.api.auth import Reader
from cityops.api.state import kernel_of
from cityops.core import units
from cityops.core.domain import LANGUAGES, translated
from cityops.core.indicators import Inputs
from cityops.core.kernel import Kernel

router = APIRouter(tags=["dashboard"])

KERNEL_TRANSLATIONS = Path(__file__).parent.parent / "web" / "translations"


@router.get("/api/meta", summary="Domains, entity types and whether the data are simulated")
async def get_meta(request: Request, principal: Reader) -> dict[str, Any]:
    kernel = kernel_of(request)
    return {
        "simulated": kernel.simulated,
        "version": __version__,
        "languages": list(LANGUAGES),
        "domains": [
            {
                "name": domain.name,
                "title": domain.title,
                "entity_types": [
                    {
                        "type": t.type,
                        "title": t.title,
                        "color": t.color,
                        "metrics": [{"name": m.name, "unit": m.unit, "title": m.title} for m in t.metrics],
                    }
                    for t in domain.entity_types
                ],
            }
            for domain in kernel.domains
        ],
        "panels": [
            {
                "domain": domain.name,
                "id": panel.id,
                "module": f"/static/domains/{domain.name}/{panel.module}",
                "title": translated(domain.folder, panel.title_key),
            }
            for domain, panel in sorted(
                ((d, p) for d in kernel.domains for p in d.panels), key=lambda dp: (dp[1].order, dp[0].name)
            )
        ],
    }


@router.get("/api/translations/{lang}", summary="Interface texts in one language")
async def get_translations(request: Request, lang: Literal["vi", "en", "ja"]) -> dict[str, str]:
    kernel = kernel_of(request)
    path = KERNEL_TRANSLATIONS / f"{lang}.json"
    texts: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    texts |= units.interface_texts(lang)
    for domain in kernel.domains:
        texts.update({f"{domain.name}.{key}": text for key, text in domain.translations(lang).items()})
    return texts


def evaluate_indicators(kernel: Kernel) -> list[dict[str, Any]]:
    now = kernel.now_ms()
    result = []
    with kernel.engine.connect() as conn:
        for indicator in kernel.indicators:
            value = indicator.formula(Inputs(conn, now, kernel.states))
            result.append(
                {
                    "id": indicator.id,
                    "title": indicator.title,
                    "unit": indicator.unit,
                    "value": value,
                    "target": indicator.target,
                    "direction": indicator.direction,
                    "status": indicator.status(value),
                }
            )
    return result


@router.get("/api/indicators", summary="Every indicator's current value against its target")
async def get_indicators(request: Request, principal: Reader) -> list[dict[str, Any]]:
    return await anyio.to_thread.run_sync(evaluate_indicators, kernel_of(request))
