"""Indicator formulas: a share of working devices counts only fresh reports that say "working", so a
tile never shows a camera as working while its camera-down alert is open."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from cityops.core.indicators import Inputs, fresh_share
from cityops.core.schema import entities, latest, metadata, metrics
from cityops.core.store import open_engine

NOW_MS = 1_790_000_000_000
WITHIN_MS = 5 * 60_000

# Per device: None (never reported) or (age of its newest report in ms, the value it reported).
devices = st.lists(
    st.none() | st.tuples(st.integers(0, 2 * WITHIN_MS), st.sampled_from([0.0, 0.2, 0.5, 1.0, 3.0])),
    max_size=12,
)


def share(reports: list[tuple[int, float] | None], at_least: float | None) -> float | None:
    engine = open_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(metrics).values(id=1, entity_type="Camera", name="state", unit="1 up / 0 down"))
        conn.execute(
            insert(metrics).values(id=2, entity_type="Camera", name="intensity", unit="vehicles/min")
        )
        for number, report in enumerate(reports, start=1):
            conn.execute(
                insert(entities).values(
                    id=number,
                    urn=f"urn:ngsi-ld:Camera:{number}",
                    type="Camera",
                    name=f"camera {number}",
                    created_ms=0,
                    updated_ms=0,
                )
            )
            # Every camera keeps sending traffic counts; only `state` tells whether it works.
            conn.execute(insert(latest).values(entity_id=number, metric_id=2, ts_ms=NOW_MS, value=5.0))
            if report is not None:
                age, value = report
                conn.execute(
                    insert(latest).values(entity_id=number, metric_id=1, ts_ms=NOW_MS - age, value=value)
                )
        formula = fresh_share("Camera", "state", WITHIN_MS, at_least=at_least)
        return formula(Inputs(conn, NOW_MS, {}))


@settings(max_examples=60, deadline=None)
@given(devices)
def test_working_share_counts_fresh_reports_that_say_working(reports: list[tuple[int, float] | None]) -> None:
    value = share(reports, at_least=0.5)
    if not reports:
        assert value is None
        return
    working = sum(1 for r in reports if r is not None and r[0] <= WITHIN_MS and r[1] >= 0.5)
    assert value == 100.0 * working / len(reports)


@settings(max_examples=30, deadline=None)
@given(devices)
def test_fresh_share_without_a_floor_counts_every_fresh_report(
    reports: list[tuple[int, float] | None],
) -> None:
    value = share(reports, at_least=None)
    if reports:
        fresh = sum(1 for r in reports if r is not None and r[0] <= WITHIN_MS)
        assert value == 100.0 * fresh / len(reports)


def test_a_camera_reporting_down_is_not_working() -> None:
    assert share([(0, 1.0), (0, 0.0)], at_least=0.5) == 50.0
    assert share([(0, 0.0), (0, 0.0)], at_least=0.5) == 0.0
