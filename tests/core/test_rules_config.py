"""Rule definitions: validation that names the field, the configuration file (TOML or JSON), domain
templates, and configuration rules being read-only through the API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.core.bus import InProcessBus
from cityops.core.domain import EntityType, MetricSpec
from cityops.core.entities import EntityRegistry
from cityops.core.rules.definitions import (
    DurationRule,
    RuleError,
    RuleSettings,
    RuleTemplate,
    ThresholdRule,
    compare,
    load_rules_file,
    parse_rule,
)
from cityops.core.rules.engine import RuleCatalogue, RuleConflict, RuleEngine
from cityops.core.schema import metadata
from cityops.core.schema_operations import alert_rules
from cityops.core.store import open_engine

CAMERA = EntityType(
    "Camera",
    {"vi": "Camera", "en": "Camera", "ja": "カメラ"},
    "#e8590c",
    (MetricSpec("occupancy", "%", {"vi": "Độ chiếm dụng"}), MetricSpec("intensity", "vehicles/min", {})),
)
CONGESTION = RuleTemplate(
    "traffic.congestion",
    {"vi": "Ùn tắc giao thông", "en": "Traffic congestion", "ja": "交通渋滞"},
    {
        "kind": "duration",
        "entity_type": "Camera",
        "metric": "occupancy",
        "op": ">",
        "value": 80,
        "minutes": 10,
        "severity": "high",
        "category": "traffic",
        "sub_category": "trafficJam",
    },
)


def fields_of(exc: pytest.ExceptionInfo[RuleError]) -> set[str]:
    return {error.field for error in exc.value.errors}


def test_errors_name_the_field() -> None:
    base = {
        "id": "r1",
        "title": "Ùn tắc",
        "category": "traffic",
        "entity_type": "Camera",
        "metric": "occupancy",
    }
    with pytest.raises(RuleError) as exc:
        parse_rule({**base, "kind": "threshold", "op": "=>", "value": "many"})
    assert fields_of(exc) == {"op", "value"}
    with pytest.raises(RuleError) as exc:
        parse_rule({**base, "kind": "sometimes"})
    assert fields_of(exc) == {"kind"}
    with pytest.raises(RuleError) as exc:
        parse_rule({**base, "kind": "duration", "op": ">", "value": 1, "minutes": 0, "colour": "red"})
    assert fields_of(exc) == {"minutes", "colour"}
    with pytest.raises(RuleError) as exc:
        parse_rule(
            {
                **base,
                "kind": "threshold",
                "op": ">",
                "value": 1,
                "title": {"en": "Jam"},
                "sub_category": "jam",
            }
        )
    assert fields_of(exc) == {"title", "sub_category"}
    with pytest.raises(RuleError) as exc:
        parse_rule({**base, "kind": "threshold", "op": ">", "value": 1, "id": "Has Spaces"})
    assert fields_of(exc) == {"id"}


def test_a_template_fills_what_the_definition_leaves_out() -> None:
    rule = parse_rule(
        {"template": CONGESTION.id, "area": "2025:26734", "minutes": 15}, {CONGESTION.id: CONGESTION}
    )
    assert isinstance(rule, DurationRule)
    assert (rule.metric, rule.value, rule.minutes, rule.area, rule.title) == (
        "occupancy",
        80,
        15,
        "2025:26734",
        CONGESTION.title,
    )
    assert rule.id.startswith("rule-")
    with pytest.raises(RuleError) as exc:
        parse_rule({"template": "weather.storm"}, {CONGESTION.id: CONGESTION})
    assert fields_of(exc) == {"template"}


def test_rules_file_in_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "rules.toml"
    toml.write_text(
        """
[[rules]]
id = "jam-tdm"
template = "traffic.congestion"
area = "legacy:718"

[[rules]]
id = "slow"
kind = "threshold"
title = { vi = "Xe chạy chậm", en = "Slow traffic", ja = "低速" }
category = "traffic"
entity_type = "Camera"
metric = "intensity"
op = "<"
value = 2.5
""",
        encoding="utf-8",
    )
    rules = load_rules_file(toml, {CONGESTION.id: CONGESTION})
    assert [(r.id, r.kind) for r in rules] == [("jam-tdm", "duration"), ("slow", "threshold")]
    as_json = tmp_path / "rules.json"
    as_json.write_text(json.dumps([r.model_dump(mode="json") for r in rules]), encoding="utf-8")
    assert load_rules_file(as_json) == rules


def test_rules_file_errors_name_the_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    good = {
        "id": "a",
        "kind": "absence",
        "title": "Mất tín hiệu",
        "category": "infrastructure",
        "entity_type": "Camera",
        "minutes": 5,
    }
    path.write_text(
        json.dumps(
            {"rules": [good, {**good, "minutes": -1}, good, {k: v for k, v in good.items() if k != "id"}]}
        ),
        encoding="utf-8",
    )
    with pytest.raises(RuleError) as exc:
        load_rules_file(path)
    assert fields_of(exc) == {"rules.1.minutes", "rules.2.id", "rules.3.id"}
    assert all(error.message.startswith("rules.json: ") for error in exc.value.errors)
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(RuleError, match="cannot be read"):
        load_rules_file(path)


@given(st.sampled_from([">", ">=", "<", "<="]), st.floats(-1e9, 1e9), st.floats(-1e9, 1e9))
def test_compare_is_the_operator_it_names(op: Any, left: float, right: float) -> None:
    expected = {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]
    assert compare(op, left, right) is expected
    assert compare(op, left, right) != compare({">": "<=", ">=": "<", "<": ">=", "<=": ">"}[op], left, right)


def make_engine(tmp_path: Path) -> RuleEngine:
    engine = open_engine(f"sqlite:///{tmp_path / 'rules.sqlite'}")
    metadata.create_all(engine)
    registry = EntityRegistry(engine)
    registry.register_types([CAMERA])
    registry.upsert("urn:ngsi-ld:Camera:c1", "Ngã tư Chợ Đình", None, None)
    catalogue = RuleCatalogue({"Camera": CAMERA}, {}, {CONGESTION.id: CONGESTION})
    return RuleEngine(engine, InProcessBus(), catalogue)


def test_names_unknown_to_the_kernel_are_refused(tmp_path: Path) -> None:
    rules = make_engine(tmp_path)
    base = {"id": "r", "kind": "threshold", "title": "x", "category": "traffic", "op": ">", "value": 1}

    async def refused(definition: dict[str, Any]) -> set[str]:
        with pytest.raises(RuleError) as exc:
            await rules.create(definition)
        return fields_of(exc)

    async def scenario() -> None:
        assert await refused({**base, "entity_type": "Tram", "metric": "speed"}) == {"entity_type"}
        assert await refused({**base, "entity_type": "Camera", "metric": "speed"}) == {"metric"}
        assert await refused(
            {
                **base,
                "entity_type": "Camera",
                "metric": "occupancy",
                "entity": "urn:ngsi-ld:Camera:nope",
                "area": "X",
            }
        ) == {"entity", "area"}
        indicator = {"id": "i", "kind": "indicator_off_target", "title": "x", "category": "publicService"}
        assert await refused({**indicator, "indicator": "nope"}) == {"indicator"}
        created = await rules.create(
            {**base, "entity_type": "Camera", "metric": "occupancy", "entity": "urn:ngsi-ld:Camera:c1"}
        )
        assert isinstance(created.rule, ThresholdRule)
        with pytest.raises(RuleConflict, match="already exists"):
            await rules.create({**base, "entity_type": "Camera", "metric": "occupancy"})

    asyncio.run(scenario())


def test_configuration_rules_are_synchronised_and_read_only(tmp_path: Path) -> None:
    rules = make_engine(tmp_path)
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nid = "jam"\ntemplate = "traffic.congestion"\n', encoding="utf-8")
    rules.configure(RuleSettings(file=path))

    async def scenario() -> None:
        await rules.start()
        assert [(s.rule.id, s.source) for s in rules.rules()] == [("jam", "config")]
        with pytest.raises(RuleConflict, match="configuration file"):
            await rules.delete("jam")
        with pytest.raises(RuleConflict, match="configuration file"):
            await rules.replace("jam", {"template": "traffic.congestion"})
        await rules.create({"id": "mine", "template": "traffic.congestion"})
        path.write_text('[[rules]]\nid = "jam2"\ntemplate = "traffic.congestion"\n', encoding="utf-8")
        await rules.start()
        assert [(s.rule.id, s.source) for s in rules.rules()] == [("jam2", "config"), ("mine", "api")]

    asyncio.run(scenario())
    with rules.engine.connect() as conn:
        assert sorted(row.id for row in conn.execute(alert_rules.select())) == ["jam2", "mine"]


def test_a_bad_configuration_file_stops_start_up_naming_the_rule(tmp_path: Path) -> None:
    rules = make_engine(tmp_path)
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\nid = "jam"\ntemplate = "traffic.congestion"\nmetric = "colour"\n', encoding="utf-8"
    )
    rules.configure(RuleSettings(file=path))
    with pytest.raises(RuleError) as exc:
        asyncio.run(rules.start())
    assert fields_of(exc) == {"rules.0.metric"}
