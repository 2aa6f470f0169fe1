"""The rule engine on the event stream, one kind of rule at a time, with hand-computed cases: alerts are
raised once, not duplicated while the condition lasts, cleared when it ends, and stored with their times."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from cityops.core.bus import InProcessBus
from cityops.core.domain import EntityType, MetricSpec
from cityops.core.entities import EntityRegistry
from cityops.core.events import AlertCleared, AlertRaised, Event, ObservationsRecorded
from cityops.core.indicators import Indicator, Inputs
from cityops.core.rules.definitions import AbsenceRule, DurationRule, ThresholdRule, parse_rule
from cityops.core.rules.engine import RuleCatalogue, RuleEngine
from cityops.core.rules.judge import SeriesState, describe, describe_absence
from cityops.core.schema import areas, metadata
from cityops.core.schema_operations import alerts
from cityops.core.store import open_engine

BASE = 1_790_000_000_000
MINUTE = 60_000
SENSOR = EntityType(
    "Sensor",
    {"vi": "Cảm biến", "en": "Sensor", "ja": "センサー"},
    "#000000",
    (MetricSpec("level", "cm", {"vi": "Mực nước"}), MetricSpec("speed", "km/h", {"vi": "Tốc độ"})),
)
# province P > districts D1, D2 > wards W1 (in D1), W2 (in D2)
AREAS = [
    ("P", None, "province"),
    ("D1", "P", "district"),
    ("D2", "P", "district"),
    ("W1", "D1", "ward"),
    ("W2", "D2", "ward"),
]


class World:
    """A store, a bus, a registry with sensors placed in wards, and a rule engine on a hand-set clock."""

    def __init__(self, folder: Path, indicators: dict[str, Indicator] | None = None) -> None:
        self.engine = open_engine(f"sqlite:///{folder / 'ops.sqlite'}")
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for code, parent, level in AREAS:
                conn.execute(
                    insert(areas).values(
                        code=code,
                        scheme="2025",
                        level=level,
                        official_code=code,
                        name=code,
                        parent_code=parent,
                        approximate=False,
                        properties={},
                    )
                )
        self.registry = EntityRegistry(self.engine, lambda lon, lat, scheme: "W1" if lon < 106.6 else "W2")
        self.registry.register_types([SENSOR])
        self.now = BASE
        self.bus = InProcessBus()
        self.events: list[Event] = []
        self.bus.subscribe("alerts", self._collect)
        self.batch = 0
        catalogue = RuleCatalogue({"Sensor": SENSOR}, indicators or {}, {})
        self.sensors = [self.add(f"s{i}", 106.5 if i % 2 == 0 else 106.7) for i in range(4)]
        self.rules = RuleEngine(self.engine, self.bus, catalogue, clock=lambda: self.now)
        self.rules.attach()

    async def _collect(self, event: Event) -> None:
        self.events.append(event)

    def add(self, local_id: str, lon: float) -> str:
        urn = f"urn:ngsi-ld:Sensor:{local_id}"
        self.registry.upsert(urn, f"Cảm biến {local_id}", lon, 11.0)
        return urn

    async def send(self, *points: tuple[str, str, int, float], received_ms: int | None = None) -> None:
        newest = []
        for urn, metric, ts, value in points:
            ref = self.registry.resolve(urn)
            metric_id = self.registry.metric_id("Sensor", metric)
            assert ref is not None and metric_id is not None
            newest.append((ref.id, metric_id, ts, value))
        self.batch += 1
        received = self.now if received_ms is None else received_ms
        await self.bus.publish(ObservationsRecorded(self.batch, received, len(points), (), tuple(newest)))

    def raised(self) -> list[AlertRaised]:
        return [e for e in self.events if isinstance(e, AlertRaised)]

    def cleared(self) -> list[AlertCleared]:
        return [e for e in self.events if isinstance(e, AlertCleared)]

    def stored(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(alerts).order_by(alerts.c.id)))


def run(world: World, scenario: Callable[[World], Awaitable[None]]) -> None:
    asyncio.run(scenario(world))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def rule(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"r-{kind}",
        "kind": kind,
        "title": {"vi": "Nước dâng", "en": "Water rising", "ja": "水位上昇"},
        "severity": "high",
        "category": "environment",
        "sub_category": "flood",
        "entity_type": "Sensor",
        **fields,
    }


def test_threshold_raises_once_does_not_duplicate_and_clears(world: World) -> None:
    s0 = world.sensors[0]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("threshold", metric="level", op=">", value=40))
        await w.send((s0, "level", BASE, 30.0))
        assert w.raised() == []
        w.now = BASE + 1000
        await w.send((s0, "level", BASE + 1000, 45.0))
        await w.send((s0, "level", BASE + 2000, 50.0))
        assert [(a.source, a.value, a.severity, a.category, a.sub_category) for a in w.raised()] == [
            (s0, 45.0, "high", "environment", "flood")
        ]
        w.now = BASE + 3000
        await w.send((s0, "level", BASE + 3000, 40.0))  # 40 is not > 40
        assert [(c.alert_id, c.reason) for c in w.cleared()] == [(w.raised()[0].alert_id, "condition_ended")]
        await w.send((s0, "level", BASE + 4000, 41.0))

    run(world, scenario)
    rows = world.stored()
    assert [(r.raised_ms, r.cleared_ms, r.value, r.observed_ms) for r in rows] == [
        (BASE + 1000, BASE + 3000, 45.0, BASE + 1000),
        (BASE + 3000, None, 41.0, BASE + 4000),
    ]
    assert rows[0].description["vi"] == "Mực nước 45 cm (trên 40 cm)"
    assert rows[0].description["en"] == "Mực nước 45 cm (above 40 cm)"


def test_every_series_of_a_large_batch_is_judged(world: World) -> None:
    urns = [world.add(f"bulk{i}", 106.5) for i in range(120)]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("threshold", metric="level", op=">=", value=10))
        await w.send(*[(urn, "level", BASE, 10.0 + i) for i, urn in enumerate(urns)])

    run(world, scenario)
    assert sorted(a.source for a in world.raised()) == sorted(urns)


def test_scope_by_area_includes_sub_areas_and_by_entity(world: World) -> None:
    s0, s1, s2, _ = world.sensors  # s0, s2 in W1 (D1); s1, s3 in W2 (D2)

    async def scenario(w: World) -> None:
        await w.rules.create(rule("threshold", id="in-d1", metric="level", op=">", value=0, area="D1"))
        await w.rules.create(rule("threshold", id="only-s1", metric="level", op=">", value=0, entity=s1))
        await w.send(*[(urn, "level", BASE, 5.0) for urn in w.sensors])

    run(world, scenario)
    assert sorted((a.rule_id, a.source) for a in world.raised()) == sorted(
        [("in-d1", s0), ("in-d1", s2), ("only-s1", s1)]
    )
    assert {a.area_code for a in world.raised() if a.rule_id == "in-d1"} == {"W1"}


def test_duration_needs_the_full_time_and_a_dip_starts_it_again(world: World) -> None:
    s0, s1 = world.sensors[:2]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("duration", metric="speed", op="<", value=10, minutes=10))
        # s0: slow from minute 0; at 9:59 not yet, at 10:00 yes
        for ts in (BASE, BASE + 5 * MINUTE, BASE + 10 * MINUTE - 1000):
            await w.send((s0, "speed", ts, 5.0))
        assert w.raised() == []
        await w.send((s0, "speed", BASE + 10 * MINUTE, 4.0))
        assert [a.source for a in w.raised()] == [s0]
        # s1: slow at 0, a dip at 5 (12 km/h), slow again from 6: at 15 not yet (9 min), at 16 yes
        await w.send((s1, "speed", BASE, 5.0))
        await w.send((s1, "speed", BASE + 5 * MINUTE, 12.0))
        for minute in (6, 10, 15):
            await w.send((s1, "speed", BASE + minute * MINUTE, 5.0))
        assert [a.source for a in w.raised()] == [s0]
        await w.send((s1, "speed", BASE + 16 * MINUTE, 5.0))
        assert [a.source for a in w.raised()] == [s0, s1]
        await w.send((s0, "speed", BASE + 17 * MINUTE, 30.0))
        assert [c.source for c in w.cleared()] == [s0]

    run(world, scenario)


def test_absence_raises_after_the_silence_and_clears_on_data(world: World) -> None:
    s0, s1 = world.sensors[:2]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("absence", id="silent", metric="level", minutes=5, area="D1"))
        w.now = BASE + 4 * MINUTE
        await w.send((s0, "level", BASE + 4 * MINUTE, 1.0))  # s0 heard at minute 4; s2 never
        w.now = BASE + 5 * MINUTE - 1
        await w.rules.tick()
        assert w.raised() == []
        w.now = BASE + 5 * MINUTE  # s2 silent since the rule began watching
        await w.rules.tick()
        assert [a.source for a in w.raised()] == [w.sensors[2]]
        w.now = BASE + 9 * MINUTE - 1
        await w.rules.tick()
        assert len(w.raised()) == 1
        w.now = BASE + 9 * MINUTE
        await w.rules.tick()
        await w.rules.tick()
        assert [a.source for a in w.raised()] == [w.sensors[2], s0]
        # data of another metric does not count; data of the watched one clears the alert
        w.now += 1000
        await w.send((s0, "speed", w.now, 3.0))
        assert w.cleared() == []
        await w.send((s0, "level", w.now, 3.0))
        assert [c.source for c in w.cleared()] == [s0]
        assert s1 not in [a.source for a in w.raised()]  # outside the rule's area

    run(world, scenario)


def test_absence_counts_from_arrival_not_from_the_data_timestamp(world: World) -> None:
    s0 = world.sensors[0]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("absence", metric=None, minutes=5, entity=s0))
        w.now = BASE + 4 * MINUTE
        await w.send((s0, "speed", BASE - 60 * MINUTE, 1.0))  # a late batch still proves the device lives
        w.now = BASE + 8 * MINUTE
        await w.rules.tick()
        assert w.raised() == []
        w.now = BASE + 9 * MINUTE
        await w.rules.tick()
        assert [a.source for a in w.raised()] == [s0]

    run(world, scenario)


def test_rate_of_change_over_the_window(world: World) -> None:
    s0 = world.sensors[0]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("rate_of_change", metric="level", op=">", value=2, window_minutes=5))
        await w.send((s0, "level", BASE, 10.0))  # a single point: no rate
        await w.send((s0, "level", BASE + MINUTE, 11.0))  # (11-10)/1 = 1 per minute
        assert w.raised() == []
        await w.send((s0, "level", BASE + 2 * MINUTE, 20.0))  # (20-10)/2 = 5
        assert [a.value for a in w.raised()] == [20.0]
        assert w.raised()[0].description["vi"] == "Mực nước thay đổi 5 cm/phút (trên 2 cm/phút)"
        await w.send((s0, "level", BASE + 3 * MINUTE, 20.0))  # (20-10)/3 = 3.33: still rising fast
        assert len(w.raised()) == 1 and w.cleared() == []
        await w.send((s0, "level", BASE + 8 * MINUTE, 20.0))  # window from minute 3: (20-20)/5 = 0
        assert len(w.cleared()) == 1

    run(world, scenario)


def test_old_or_repeated_data_changes_nothing(world: World) -> None:
    s0 = world.sensors[0]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("threshold", metric="level", op=">", value=40))
        await w.send((s0, "level", BASE + MINUTE, 50.0))
        await w.send((s0, "level", BASE, 10.0))  # older than what was judged
        await w.send((s0, "level", BASE + MINUTE, 10.0))  # same time again
        assert (len(w.raised()), len(w.cleared())) == (1, 0)

    run(world, scenario)


def test_indicator_off_target(tmp_path: Path) -> None:
    current: list[float | None] = [40.0]

    def formula(_inputs: Inputs) -> float | None:
        return current[0]

    online = Indicator(
        "services.online_rate",
        {"vi": "Tỷ lệ hồ sơ trực tuyến", "en": "Online dossiers", "ja": "オンライン申請率"},
        "%",
        "higher",
        formula,
        target=50.0,
        tolerance=0.1,
    )
    world = World(tmp_path, {online.id: online})

    async def scenario(w: World) -> None:
        await w.rules.create(
            {
                "id": "online",
                "kind": "indicator_off_target",
                "title": "Hồ sơ trực tuyến dưới mục tiêu",
                "category": "publicService",
                "sub_category": "indicatorOffTarget",
                "indicator": online.id,
            }
        )
        await w.rules.tick()  # 40 < 45 (target less 10 %): bad
        assert [(a.source, a.value) for a in w.raised()] == [(online.id, 40.0)]
        assert w.raised()[0].description["vi"] == "Tỷ lệ hồ sơ trực tuyến: 40% (mục tiêu từ 50% trở lên)"
        current[0] = 47.0  # warn is not bad
        w.now += 30_000
        await w.rules.tick()
        assert w.cleared() == []  # not due yet (every 60 s)
        w.now += 30_000
        await w.rules.tick()
        assert len(w.cleared()) == 1
        current[0] = None  # no value: no decision
        w.now += 60_000
        await w.rules.tick()
        assert (len(w.raised()), len(w.cleared())) == (1, 1)

    run(world, scenario)


def test_a_restarted_engine_knows_the_open_alerts(world: World) -> None:
    s0 = world.sensors[0]

    async def first(w: World) -> None:
        await w.rules.create(rule("threshold", metric="level", op=">", value=40))
        await w.send((s0, "level", BASE, 50.0))

    run(world, first)
    world.rules.detach()
    world.rules = RuleEngine(world.engine, world.bus, world.rules.catalogue, clock=lambda: world.now)
    world.rules.attach()

    async def second(w: World) -> None:
        await w.send((s0, "level", BASE + MINUTE, 60.0))
        await w.send((s0, "level", BASE + 2 * MINUTE, 1.0))

    run(world, second)
    assert (len(world.raised()), len(world.cleared())) == (1, 1)
    assert world.rules.get("r-threshold").rule.value == 40


def test_deleting_or_changing_a_rule_clears_its_alerts(world: World) -> None:
    s0 = world.sensors[0]

    async def scenario(w: World) -> None:
        await w.rules.create(rule("threshold", metric="level", op=">", value=40))
        await w.send((s0, "level", BASE, 50.0))
        await w.rules.replace("r-threshold", rule("threshold", metric="level", op=">", value=45))
        assert [c.reason for c in w.cleared()] == ["rule_changed"]
        await w.send((s0, "level", BASE + MINUTE, 50.0))  # still above the new threshold: raised again
        await w.rules.delete("r-threshold")
        assert [c.reason for c in w.cleared()] == ["rule_changed", "rule_removed"]
        await w.send((s0, "level", BASE + 2 * MINUTE, 99.0))

    run(world, scenario)
    assert len(world.raised()) == 2
    assert all(row.cleared_ms is not None for row in world.stored())


def test_alert_texts_read_as_sentences_with_units_and_states() -> None:
    camera_state = MetricSpec(
        "state", "1 up / 0 down", {"vi": "Trạng thái camera", "en": "Camera state", "ja": "カメラ状態"}
    )
    down = parse_rule(rule("threshold", metric="state", op="<", value=0.5))
    assert isinstance(down, ThresholdRule)
    text = describe(down, SeriesState(), 0.0, camera_state)
    assert text == {
        "vi": "Trạng thái camera: mất tín hiệu",
        "en": "Camera state: down",
        "ja": "カメラ状態: 停止",
    }

    flow = MetricSpec("intensity", "vehicles/min", {"vi": "Lưu lượng", "en": "Flow", "ja": "交通量"})
    busy = parse_rule(rule("duration", metric="intensity", op=">", value=1200, minutes=5))
    assert isinstance(busy, DurationRule)
    text = describe(busy, SeriesState(), 1234.5, flow)
    assert text["vi"] == "Lưu lượng trên 1.200 xe/phút liên tục 5 phút (hiện 1.234,5 xe/phút)"
    assert text["en"] == "Flow above 1,200 vehicles/min for 5 min (now 1,234.5 vehicles/min)"
    silent = parse_rule(rule("absence", metric="intensity", minutes=5))
    assert isinstance(silent, AbsenceRule)
    assert describe_absence(silent, flow)["vi"] == "Không nhận được dữ liệu “Lưu lượng” trong 5 phút"
