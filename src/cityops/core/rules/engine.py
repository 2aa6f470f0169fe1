"""The rule engine: evaluates alert rules on the event stream and keeps one open alert per rule and source.

It subscribes to `ObservationsRecorded` and judges the newest point of every watched series of a batch
(once per series per batch, never per point), with the rules' state in memory. A timer handles what
silence and slow formulas need: absence of data and indicators off their target. Rules are stored in
the `alert_rules` table (from the API) or come from the configuration file (read-only through the API);
every change of a rule appends to the audit log in the same transaction (`rule.create|update|delete`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio.to_thread
from sqlalchemy import Engine, delete, func, insert, select, update

from cityops.core import audit
from cityops.core.bus import Bus, Unsubscribe
from cityops.core.domain import EntityType, MetricSpec
from cityops.core.events import AlertRaised, EntityUpserted, Event, ObservationsRecorded, RuleChanged
from cityops.core.indicators import Indicator, Inputs
from cityops.core.rules.alerts import (
    AlertChange,
    AlertClosing,
    AlertOpening,
    iso,
    open_alert_ids,
    write_changes,
)
from cityops.core.rules.definitions import (
    MINUTE_MS,
    AbsenceRule,
    DurationRule,
    IndicatorRule,
    ObservationRule,
    RateOfChangeRule,
    Rule,
    RuleError,
    RuleFieldError,
    RuleSettings,
    RuleTemplate,
    ThresholdRule,
    load_rules_file,
    parse_rule,
)
from cityops.core.rules.judge import (
    Judge,
    SeriesState,
    describe,
    describe_absence,
    describe_indicator,
    judge_for,
    judge_indicator,
)
from cityops.core.rules.scope import EntityDirectory, EntityInfo
from cityops.core.schema import latest
from cityops.core.schema_operations import alert_rules
from cityops.core.store import write_transaction

RuleSource = Literal["api", "config"]
JudgedRule = ThresholdRule | DurationRule | RateOfChangeRule
# The rules watching one series: those judged on its values (with their state and alert key), and the
# absence rules, which only note the arrival (in their entity id -> last arrival map). Worked out once per
# series; the cache is dropped whenever rules or entities change.
_Targets = tuple[
    list[tuple[Judge, JudgedRule, SeriesState, EntityInfo, tuple[str, str]]],
    list[tuple[dict[int, int], tuple[str, str], EntityInfo]],
]
Clock = Callable[[], int]
CONFIG_ACTOR = "config"  # the audit log's actor for rules the configuration file adds, changes or drops


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class RuleCatalogue:
    """What rules may name: entity types (with their metrics), indicators, and the domains' templates."""

    entity_types: Mapping[str, EntityType]
    indicators: Mapping[str, Indicator]
    templates: Mapping[str, RuleTemplate]


@dataclass(frozen=True)
class StoredRule:
    rule: Rule
    source: RuleSource
    created_ms: int
    updated_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.rule.model_dump(mode="json"),
            "source": self.source,
            "created": iso(self.created_ms),
            "updated": iso(self.updated_ms),
        }


class RuleNotFound(LookupError):
    pass


class RuleConflict(ValueError):
    pass


class RuleEngine:
    def __init__(
        self,
        engine: Engine,
        bus: Bus,
        catalogue: RuleCatalogue,
        settings: RuleSettings | None = None,
        clock: Clock = wall_clock_ms,
        states: Mapping[str, object] | None = None,
    ) -> None:
        self.engine = engine
        self.states: Mapping[str, object] = {} if states is None else states
        self.bus = bus
        self.catalogue = catalogue
        self.settings = settings or RuleSettings()
        self.clock = clock
        self.directory = EntityDirectory(engine)
        self._rules: dict[str, StoredRule] = {}
        self._watch: dict[int, list[ObservationRule]] = {}  # metric id -> enabled rules on that metric
        self._state: dict[tuple[str, int], SeriesState] = {}  # (rule, entity id)
        self._targets: dict[tuple[int, int], _Targets] = {}  # (entity id, metric id): cache
        self._judges: dict[str, Judge] = {}
        self._last_seen: dict[str, dict[int, int]] = {}  # absence rule -> entity id -> ms
        self._open: dict[tuple[str, str], int] = {}  # (rule, source) -> alert id (0 while being written)
        self._write_lock = asyncio.Lock()
        self._edit_lock = asyncio.Lock()
        self._indicators_due_ms = 0
        self._unsubscribes: list[Unsubscribe] = []
        self._evaluating = False
        with engine.connect() as conn:
            for row in conn.execute(select(alert_rules)):
                rule = parse_rule(row.definition)
                self._rules[rule.id] = StoredRule(rule, row.source, row.created_ms, row.updated_ms)
            self._open = open_alert_ids(conn)
        for stored in self._rules.values():
            self._reset(stored.rule)
        self._compile()

    # --- wiring ------------------------------------------------------------------------------------
    def configure(self, settings: RuleSettings) -> None:
        self.settings = settings

    def attach(self) -> None:
        """Subscribe on the bus (the kernel does it when it opens)."""
        self._evaluating = True
        self._unsubscribes += [
            self.bus.subscribe(ObservationsRecorded.subject, self._on_observations),
            self.bus.subscribe(EntityUpserted.subject, self._on_entity),
        ]

    def follow_edits(self) -> None:
        """Take in the rules created, replaced or deleted by the other processes of a cluster."""
        self._unsubscribes.append(self.bus.subscribe(RuleChanged.subject, self._on_rule_changed))

    async def _on_rule_changed(self, event: Event) -> None:
        if not isinstance(event, RuleChanged):
            return
        stored = await anyio.to_thread.run_sync(self._load, event.rule_id)
        async with self._edit_lock:
            if stored == self._rules.get(event.rule_id):
                return  # this process made the change (its own event came back) or has it already
            if not self._evaluating:  # an API server: lists and checks rules, raises no alert
                if stored is None:
                    self._rules.pop(event.rule_id, None)
                else:
                    self._rules[event.rule_id] = stored
                self._compile()
            elif stored is None:
                await self._uninstall(event.rule_id, "rule_removed")
            else:
                await self._install(stored)

    def _load(self, rule_id: str) -> StoredRule | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(alert_rules).where(alert_rules.c.id == rule_id)).first()
        if row is None:
            return None
        return StoredRule(parse_rule(row.definition), row.source, row.created_ms, row.updated_ms)

    def detach(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes = []

    async def start(self) -> None:
        """Catch up with what changed since the kernel opened (entities registered without an event, the
        configuration file), and clear alerts left open by rules that are gone or disabled."""
        await anyio.to_thread.run_sync(self.directory.refresh)
        for stored in self._rules.values():
            self._reset(stored.rule)
        self._compile()
        if self.settings.file is not None:
            await self.apply_config(self._load_file(self.settings.file))
        stale = [
            AlertClosing(rule_id, source, "rule_removed")
            for rule_id, source in list(self._open)
            if rule_id not in self._rules or not self._rules[rule_id].rule.enabled
        ]
        for change in stale:
            self._open.pop((change.rule_id, change.source), None)
        if stale:
            await self._write(stale)

    def _load_file(self, path: Path) -> list[Rule]:
        return load_rules_file(path, dict(self.catalogue.templates))

    async def run_timer(self) -> None:
        """Tick forever (absence of data, indicators); the app runs it as a task."""
        while True:
            await asyncio.sleep(self.settings.tick_seconds)
            await self.tick()

    # --- rules -------------------------------------------------------------------------------------
    def rules(self) -> list[StoredRule]:
        return sorted(self._rules.values(), key=lambda stored: stored.rule.id)

    def get(self, rule_id: str) -> StoredRule:
        stored = self._rules.get(rule_id)
        if stored is None:
            raise RuleNotFound(rule_id)
        return stored

    def open_alerts_of(self, rule_id: str) -> int:
        return sum(1 for key in self._open if key[0] == rule_id)

    def check(self, rule: Rule) -> None:
        """Refuse a rule that names an unknown type, metric, entity, area or indicator."""
        errors: list[RuleFieldError] = []
        if isinstance(rule, IndicatorRule):
            if rule.indicator not in self.catalogue.indicators:
                known = sorted(self.catalogue.indicators)
                message = f"unknown indicator {rule.indicator!r}; known: {known}"
                raise RuleError([RuleFieldError("indicator", message)])
            return
        entity_type = self.catalogue.entity_types.get(rule.entity_type)
        if entity_type is None:
            known = sorted(self.catalogue.entity_types)
            raise RuleError(
                [RuleFieldError("entity_type", f"unknown entity type {rule.entity_type!r}; known: {known}")]
            )
        metric_names = [spec.name for spec in entity_type.metrics]
        known_metric = rule.metric is None or rule.metric in metric_names
        if known_metric and (rule.entity_type, rule.metric) not in self.directory.metric_ids:
            self.directory.refresh()  # a type registered after the engine started
        if not known_metric:
            errors.append(
                RuleFieldError(
                    "metric", f"unknown metric {rule.metric!r} for {rule.entity_type}; known: {metric_names}"
                )
            )
        if rule.entity is not None:
            info = self.directory.by_urn(rule.entity)
            if info is None:
                self.directory.reload_urn(rule.entity)
                info = self.directory.by_urn(rule.entity)
            if info is None:
                errors.append(RuleFieldError("entity", f"unknown entity {rule.entity!r}"))
            elif info.type != rule.entity_type:
                errors.append(
                    RuleFieldError("entity", f"{rule.entity!r} is a {info.type}, not a {rule.entity_type}")
                )
        if rule.area is not None and rule.area not in self.directory.tree.parents:
            self.directory.refresh()
            if rule.area not in self.directory.tree.parents:
                errors.append(RuleFieldError("area", f"unknown area code {rule.area!r}"))
        if errors:
            raise RuleError(errors)

    async def create(self, raw: Any, actor: str = "system") -> StoredRule:
        rule = parse_rule(raw, dict(self.catalogue.templates))
        async with self._edit_lock:
            if rule.id in self._rules:
                raise RuleConflict(f"a rule with id {rule.id!r} already exists")
            await anyio.to_thread.run_sync(self.check, rule)
            now = self.clock()
            stored = StoredRule(rule, "api", now, now)
            await anyio.to_thread.run_sync(self._save, stored, None, actor)
            await self._install(stored)
        await self.bus.publish(RuleChanged(rule.id))
        return stored

    async def replace(self, rule_id: str, raw: Any, actor: str = "system") -> StoredRule:
        if isinstance(raw, dict):
            if raw.get("id", rule_id) != rule_id:
                raise RuleError(
                    [RuleFieldError("id", f"must be {rule_id!r} (the rule in the path) or left out")]
                )
            raw = {**raw, "id": rule_id}
        rule = parse_rule(raw, dict(self.catalogue.templates))
        async with self._edit_lock:
            current = self._editable(rule_id)
            await anyio.to_thread.run_sync(self.check, rule)
            stored = StoredRule(rule, current.source, current.created_ms, self.clock())
            await anyio.to_thread.run_sync(self._save, stored, current, actor)
            await self._install(stored)
        await self.bus.publish(RuleChanged(rule_id))
        return stored

    async def delete(self, rule_id: str, actor: str = "system") -> None:
        async with self._edit_lock:
            current = self._editable(rule_id)
            await anyio.to_thread.run_sync(self._remove, current, actor)
            await self._uninstall(rule_id, "rule_removed")
        await self.bus.publish(RuleChanged(rule_id))

    async def apply_config(self, rules: list[Rule]) -> None:
        """Make the configuration file's rules the `config` rules: add or update them, drop the others."""
        async with self._edit_lock:
            await self._apply_config(rules)

    async def _apply_config(self, rules: list[Rule]) -> None:
        errors: list[RuleFieldError] = []
        for index, rule in enumerate(rules):
            try:
                await anyio.to_thread.run_sync(self.check, rule)
            except RuleError as exc:
                errors.extend(RuleFieldError(f"rules.{index}.{e.field}", e.message) for e in exc.errors)
        if errors:
            raise RuleError(errors)
        wanted = {rule.id for rule in rules}
        for stored in list(self._rules.values()):
            if stored.source == "config" and stored.rule.id not in wanted:
                await anyio.to_thread.run_sync(self._remove, stored, CONFIG_ACTOR)
                await self._uninstall(stored.rule.id, "rule_removed")
                await self.bus.publish(RuleChanged(stored.rule.id))
        for rule in rules:
            current = self._rules.get(rule.id)
            if current is not None and current.rule == rule and current.source == "config":
                continue
            now = self.clock()
            stored = StoredRule(rule, "config", current.created_ms if current else now, now)
            await anyio.to_thread.run_sync(self._save, stored, current, CONFIG_ACTOR)
            await self._install(stored)
            await self.bus.publish(RuleChanged(rule.id))

    def _editable(self, rule_id: str) -> StoredRule:
        stored = self.get(rule_id)
        if stored.source == "config":
            raise RuleConflict(f"rule {rule_id!r} comes from the configuration file; change it there")
        return stored

    def _save(self, stored: StoredRule, before: StoredRule | None, actor: str) -> None:
        """Store `stored` (which replaces `before`, if any) with its audit entry."""
        values = {
            "definition": stored.rule.model_dump(mode="json"),
            "source": stored.source,
            "updated_ms": stored.updated_ms,
        }
        with write_transaction(self.engine) as conn:
            exists = conn.execute(
                select(func.count()).select_from(alert_rules).where(alert_rules.c.id == stored.rule.id)
            ).scalar_one()
            if exists:
                conn.execute(update(alert_rules).where(alert_rules.c.id == stored.rule.id).values(**values))
            else:
                conn.execute(
                    insert(alert_rules).values(id=stored.rule.id, created_ms=stored.created_ms, **values)
                )
            action, was = ("rule.create", None) if before is None else ("rule.update", before.to_dict())
            audit.record(conn, actor, action, f"rule:{stored.rule.id}", was, stored.to_dict())

    def _remove(self, stored: StoredRule, actor: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(alert_rules).where(alert_rules.c.id == stored.rule.id))
            audit.record(conn, actor, "rule.delete", f"rule:{stored.rule.id}", stored.to_dict(), None)

    async def _install(self, stored: StoredRule) -> None:
        # A changed rule starts afresh: its open alerts are cleared and raised again if still true.
        await self._uninstall(stored.rule.id, "rule_changed")
        self._rules[stored.rule.id] = stored
        await anyio.to_thread.run_sync(self._reset, stored.rule)
        self._compile()

    async def _uninstall(self, rule_id: str, reason: str) -> None:
        self._rules.pop(rule_id, None)
        self._compile()
        closing = [AlertClosing(rid, source, reason) for rid, source in list(self._open) if rid == rule_id]
        for change in closing:
            self._open.pop((change.rule_id, change.source), None)
        for key in [key for key in self._state if key[0] == rule_id]:
            del self._state[key]
        self._last_seen.pop(rule_id, None)
        if closing:
            await self._write(closing)

    def _reset(self, rule: Rule) -> None:
        """Start watching: an absence rule counts silence from the newest stored point, or from now."""
        if not isinstance(rule, AbsenceRule) or not rule.enabled:
            return
        metric_ids = [
            metric_id
            for (entity_type, name), metric_id in self.directory.metric_ids.items()
            if entity_type == rule.entity_type and rule.metric in (None, name)
        ]
        now = self.clock()
        seen = {info.id: now for info in self.directory.of_type(rule.entity_type) if _in_scope(rule, info)}
        with self.engine.connect() as conn:
            query = (
                select(latest.c.entity_id, func.max(latest.c.ts_ms))
                .where(latest.c.metric_id.in_(metric_ids))
                .group_by(latest.c.entity_id)
            )
            for entity_id, ts_ms in conn.execute(query):
                if entity_id in seen:
                    seen[entity_id] = min(int(ts_ms), now)
        self._last_seen[rule.id] = seen

    def _compile(self) -> None:
        watch: dict[int, list[ObservationRule]] = {}
        judges: dict[str, Judge] = {}
        for stored in self._rules.values():
            rule = stored.rule
            if isinstance(rule, IndicatorRule) or not rule.enabled:
                continue
            if not isinstance(rule, AbsenceRule):
                judges[rule.id] = judge_for(rule)
            for (entity_type, name), metric_id in self.directory.metric_ids.items():
                if entity_type == rule.entity_type and (rule.metric == name or rule.metric is None):
                    watch.setdefault(metric_id, []).append(rule)
        self._watch = watch
        self._judges = judges
        self._targets = {}

    # --- evaluation --------------------------------------------------------------------------------
    async def _on_entity(self, event: Event) -> None:
        if isinstance(event, EntityUpserted):
            await anyio.to_thread.run_sync(self.directory.reload_urn, event.urn)
            self._targets = {}  # its area may have changed

    async def _on_observations(self, event: Event) -> None:
        if not isinstance(event, ObservationsRecorded) or not self._watch:
            return
        watch = self._watch
        relevant = [series for series in event.newest if series[1] in watch]
        if not relevant:
            return
        targets_of = self._targets
        new = [series for series in relevant if (series[0], series[1]) not in targets_of]
        if new:  # series seen for the first time since the rules or entities changed
            get = self.directory.get
            missing = {series[0] for series in new if get(series[0]) is None}
            if missing:
                await anyio.to_thread.run_sync(self.directory.load, missing)
            for entity_id, metric_id, _, _ in new:
                self._targets_of(entity_id, metric_id)
            targets_of = self._targets
        changes: list[AlertChange] = []
        opened = self._open
        received = event.received_ms
        for entity_id, metric_id, ts, value in relevant:
            targets = targets_of.get((entity_id, metric_id))
            if targets is None:  # the cache was dropped meanwhile
                targets = self._targets_of(entity_id, metric_id)
            judged, silent = targets
            for seen, entity_key, info in silent:
                if seen.get(entity_id, 0) < received:
                    seen[entity_id] = received
                if entity_key in opened:
                    del opened[entity_key]
                    changes.append(AlertClosing(entity_key[0], info.urn, "condition_ended"))
            for judge, rule, state, info, key in judged:
                if ts <= state.last_ts:  # old or repeated data does not change a judgement already made
                    continue
                state.last_ts = ts
                verdict = judge(state, ts, value)
                if verdict is None:
                    continue
                if verdict and key not in opened:
                    opened[key] = 0
                    description = describe(
                        rule, state, value, self._metric_spec(rule.entity_type, rule.metric)
                    )
                    changes.append(AlertOpening(rule, info.urn, info.name, info, value, ts, description))
                elif not verdict and key in opened:
                    del opened[key]
                    changes.append(AlertClosing(rule.id, info.urn, "condition_ended"))
        if changes:
            await self._write(changes)

    def _targets_of(self, entity_id: int, metric_id: int) -> _Targets:
        """The rules watching one series, with their state, worked out once per series."""
        info = self.directory.get(entity_id)
        targets: _Targets = ([], [])
        if info is not None:  # an entity the store knows but the directory does not is skipped this time
            for rule in self._watch.get(metric_id, ()):
                if not _in_scope(rule, info):
                    continue
                key = (rule.id, info.urn)
                if isinstance(rule, AbsenceRule):
                    targets[1].append((self._last_seen.setdefault(rule.id, {}), key, info))
                else:
                    state = self._state.setdefault((rule.id, entity_id), SeriesState())
                    targets[0].append((self._judges[rule.id], rule, state, info, key))
            self._targets[(entity_id, metric_id)] = targets
        return targets

    async def tick(self) -> None:
        """Raise absence alerts whose silence has lasted long enough; evaluate indicator rules when due."""
        now = self.clock()
        changes: list[AlertChange] = []
        indicator_rules: list[IndicatorRule] = []
        for stored in list(self._rules.values()):
            rule = stored.rule
            if not rule.enabled:
                continue
            if isinstance(rule, IndicatorRule):
                indicator_rules.append(rule)
            elif isinstance(rule, AbsenceRule):
                self._check_silence(rule, now, changes)
        if indicator_rules and now >= self._indicators_due_ms:
            self._indicators_due_ms = now + int(self.settings.indicator_seconds * 1000)
            verdicts = await anyio.to_thread.run_sync(self._evaluate_indicators, indicator_rules, now)
            for rule, indicator, value, verdict in verdicts:
                key = (rule.id, indicator.id)
                if verdict is True and key not in self._open:
                    self._open[key] = 0
                    title = indicator.title.get("vi", indicator.id)
                    changes.append(
                        AlertOpening(
                            rule, indicator.id, title, None, value, now, describe_indicator(indicator, value)
                        )
                    )
                elif verdict is False and key in self._open:
                    del self._open[key]
                    changes.append(AlertClosing(rule.id, indicator.id, "condition_ended"))
        if changes:
            await self._write(changes)

    def _metric_spec(self, entity_type: str, metric: str | None) -> MetricSpec | None:
        """The metric as its domain declares it (title, unit), for the alert's text."""
        declared = self.catalogue.entity_types.get(entity_type)
        return next((m for m in declared.metrics if m.name == metric), None) if declared else None

    def _check_silence(self, rule: AbsenceRule, now: int, changes: list[AlertChange]) -> None:
        seen = self._last_seen.setdefault(rule.id, {})
        limit = rule.minutes * MINUTE_MS
        for info in self.directory.of_type(rule.entity_type):
            if not _in_scope(rule, info):
                continue
            last = seen.setdefault(info.id, now)  # first noticed now: silence counts from here
            key = (rule.id, info.urn)
            if now - last >= limit and key not in self._open:
                self._open[key] = 0
                changes.append(
                    AlertOpening(
                        rule,
                        info.urn,
                        info.name,
                        info,
                        None,
                        last,
                        describe_absence(rule, self._metric_spec(rule.entity_type, rule.metric)),
                    )
                )

    def _evaluate_indicators(
        self, rules: Iterable[IndicatorRule], now: int
    ) -> list[tuple[IndicatorRule, Indicator, float | None, bool | None]]:
        results = []
        with self.engine.connect() as conn:
            for rule in rules:
                indicator = self.catalogue.indicators.get(rule.indicator)
                if indicator is None:
                    continue
                value = indicator.formula(Inputs(conn, now, self.states))
                results.append((rule, indicator, value, judge_indicator(rule, indicator.status(value))))
        return results

    async def _write(self, changes: Sequence[AlertChange]) -> None:
        # One writer at a time, in the order the changes were decided.
        async with self._write_lock:
            events = await anyio.to_thread.run_sync(write_changes, self.engine, changes, self.clock())
        for event in events:
            if isinstance(event, AlertRaised) and (event.rule_id, event.source) in self._open:
                self._open[(event.rule_id, event.source)] = event.alert_id
            await self.bus.publish(event)


def _in_scope(rule: ObservationRule, info: EntityInfo) -> bool:
    return (
        info.type == rule.entity_type
        and (rule.entity is None or rule.entity == info.urn)
        and (rule.area is None or rule.area in info.areas)
    )
