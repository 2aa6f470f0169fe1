"""The public-services domain as the kernel sees it: its indicators (read from the index accumulator),
the rule templates an operator can start from, its router and, for the demo, a simulated province."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cityops.core.domain import Domain, Panel, translated
from cityops.core.indicators import Formula, Indicator, Inputs
from cityops.core.rules.definitions import RuleTemplate
from cityops.services.alerts import count_due
from cityops.services.index.accumulator import PROVINCE, Aggregates
from cityops.services.index.scoring import Reader, Scope
from cityops.services.runtime import ServicesRuntime, open_runtime, stop_runtime
from cityops.services.timing.periods import Period, from_timestamp

if TYPE_CHECKING:
    from fastapi import APIRouter

    from cityops.core.kernel import Kernel

FOLDER = Path(__file__).parent


def _from_year(read: Callable[[Aggregates], float | None]) -> Formula:
    """A formula over the province's counters for the running year (None until the domain runs)."""

    def formula(inputs: Inputs) -> float | None:
        runtime = inputs.states.get("services")
        if not isinstance(runtime, ServicesRuntime):
            return None
        year = Period("year", from_timestamp(inputs.now_ms // 1000).year)
        with runtime.reading() as accumulator:
            return read(accumulator.aggregates(PROVINCE, year))

    return formula


def _open_due(late: bool) -> Formula:
    """Open dossiers due within 24 h (or late) now: the very ones that carry a per-dossier alert, so the
    tile, the alert list and its group count the same dossiers (None until the domain runs)."""

    def formula(inputs: Inputs) -> float | None:
        runtime = inputs.states.get("services")
        if not isinstance(runtime, ServicesRuntime):
            return None
        due_soon, overdue = count_due(inputs.conn, runtime.now_s())
        return float(overdue if late else due_soon)

    return formula


def _share(numerator: Callable[[Aggregates], int], denominator: Callable[[Aggregates], int]) -> Formula:
    return _from_year(lambda a: 100.0 * numerator(a) / denominator(a) if denominator(a) else None)


def _index(inputs: Inputs) -> float | None:
    runtime = inputs.states.get("services")
    if not isinstance(runtime, ServicesRuntime):
        return None
    now = from_timestamp(inputs.now_ms // 1000)
    with runtime.reading() as accumulator:
        reader = Reader(accumulator, runtime.catalogue, runtime.area_book, now)
        return reader.index(Scope("province"), Period("year", now.year)).index


def _indicator(key: str, unit: str, formula: Formula, **options: Any) -> Indicator:
    return Indicator(
        id=f"services.{key}",
        title=translated(FOLDER, f"indicator.{key}"),
        unit=unit,
        formula=formula,
        **options,
    )


INDICATORS = (
    # The "excellent" band of Decision 766 starts at 90 points.
    _indicator("index766", "points", _index, direction="higher", target=90.0, tolerance=0.2),
    _indicator(
        "online_dossier_share",
        "%",
        _share(lambda a: a.online, lambda a: a.received),
        direction="higher",
        target=50.0,
    ),
    _indicator(
        "satisfaction_share",
        "%",
        _share(lambda a: a.satisfied, lambda a: a.rated),
        direction="higher",
        target=90.0,
    ),
    _indicator(
        "on_time_rate", "%", _share(lambda a: a.timely, lambda a: a.timeliness_total), direction="higher"
    ),
    _indicator("dossiers_due_soon", "dossiers", _open_due(late=False), direction="lower", target=0.0),
    _indicator("dossiers_overdue", "dossiers", _open_due(late=True), direction="lower", target=0.0),
)


def _template(key: str, indicator: str, severity: str) -> RuleTemplate:
    return RuleTemplate(
        id=f"services.{key}",
        title=translated(FOLDER, f"rule.{key}"),
        defaults={
            "kind": "indicator_off_target",
            "indicator": f"services.{indicator}",
            "status": "warn",
            "severity": severity,
            "category": "publicService",
            "sub_category": "indicatorOffTarget",
        },
    )


RULE_TEMPLATES = (
    _template("index_off_target", "index766", "medium"),
    _template("online_share_off_target", "online_dossier_share", "medium"),
    _template("satisfaction_off_target", "satisfaction_share", "high"),
)


def router(kernel: Kernel) -> APIRouter:
    from cityops.services.router import build_router

    return build_router(kernel)


async def simulate(kernel: Kernel) -> None:
    from cityops.services.demo.simulation import run_demo

    await run_demo(kernel)


DOMAIN = Domain(
    name="services",
    folder=FOLDER,
    indicators=INDICATORS,
    router=router,
    simulator=simulate,
    rule_templates=RULE_TEMPLATES,
    panels=(Panel("index", "panel.js", "panel.title", order=20),),
    setup=open_runtime,
    stop=stop_runtime,
)
