"""How each kind of rule judges the newest point of a series, and the alert text it gives (vi, en, ja).

A verdict is True (the alert should be open), False (it should be cleared) or None (no decision yet:
a duration not yet reached, a rate with a single point, an indicator without a value).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from cityops.core.domain import Text
from cityops.core.indicators import Indicator, Status
from cityops.core.rules.definitions import (
    MINUTE_MS,
    OPERATORS,
    AbsenceRule,
    DurationRule,
    IndicatorRule,
    RateOfChangeRule,
    ThresholdRule,
)

Judge = Callable[["SeriesState", int, float], bool | None]


@dataclass(slots=True)
class SeriesState:
    """What a rule remembers about one series (in memory only; rebuilt from new data after a restart)."""

    last_ts: int = -1
    since: int | None = None  # duration: data time at which the condition began to hold
    window: deque[tuple[int, float]] = field(default_factory=deque)  # rate of change: recent points
    rate: float | None = None


def judge_for(rule: ThresholdRule | DurationRule | RateOfChangeRule) -> Judge:
    """The rule's verdict on the newest point of a series, as a function made once per rule (the hot path
    runs it for every watched series of every batch)."""
    test, limit = OPERATORS[rule.op], rule.value
    if isinstance(rule, ThresholdRule):

        def threshold(state: SeriesState, ts: int, value: float) -> bool | None:
            return test(value, limit)

        return threshold
    if isinstance(rule, DurationRule):
        span = rule.minutes * MINUTE_MS

        def duration(state: SeriesState, ts: int, value: float) -> bool | None:
            if not test(value, limit):
                state.since = None
                return False
            if state.since is None:
                state.since = ts
            return True if ts - state.since >= span else None

        return duration
    width = rule.window_minutes * MINUTE_MS

    def rate_of_change(state: SeriesState, ts: int, value: float) -> bool | None:
        window = state.window
        window.append((ts, value))
        horizon = ts - width
        while window[0][0] < horizon:
            window.popleft()
        first_ts, first_value = window[0]
        if first_ts == ts:
            state.rate = None
            return None
        state.rate = (value - first_value) / ((ts - first_ts) / MINUTE_MS)
        return test(state.rate, limit)

    return rate_of_change


def judge_indicator(rule: IndicatorRule, status: Status) -> bool | None:
    if status == "unknown":
        return None
    return status == "bad" or (status == "warn" and rule.status == "warn")


def _number(value: float) -> str:
    return f"{value:.4g}"


def describe(rule: ThresholdRule | DurationRule | RateOfChangeRule, state: SeriesState, value: float) -> Text:
    metric, op, limit = rule.metric, rule.op, _number(rule.value)
    if isinstance(rule, ThresholdRule):
        text = f"{metric} = {_number(value)} {op} {limit}"
        return {"vi": text, "en": text, "ja": text}
    if isinstance(rule, DurationRule):
        minutes = _number(rule.minutes)
        return {
            "vi": f"{metric} {op} {limit} liên tục {minutes} phút (hiện {_number(value)})",
            "en": f"{metric} {op} {limit} for {minutes} min (now {_number(value)})",
            "ja": f"{metric} {op} {limit} が {minutes} 分継続 (現在 {_number(value)})",
        }
    rate = _number(state.rate or 0.0)
    return {
        "vi": f"{metric} thay đổi {rate}/phút {op} {limit}/phút",
        "en": f"{metric} changing {rate}/min {op} {limit}/min",
        "ja": f"{metric} の変化率 {rate}/分 {op} {limit}/分",
    }


def describe_absence(rule: AbsenceRule) -> Text:
    metric, minutes = rule.metric or "*", _number(rule.minutes)
    return {
        "vi": f"Không nhận được dữ liệu {metric} trong {minutes} phút",
        "en": f"No {metric} data received for {minutes} min",
        "ja": f"{minutes} 分間 {metric} のデータを受信していません",
    }


def describe_indicator(indicator: Indicator, value: float | None) -> Text:
    shown = "—" if value is None else _number(value)
    target = "—" if indicator.target is None else _number(indicator.target)
    unit = indicator.unit
    return {
        "vi": f"{indicator.title.get('vi', indicator.id)} = {shown} {unit}, mục tiêu {target} {unit}",
        "en": f"{indicator.title.get('en', indicator.id)} = {shown} {unit}, target {target} {unit}",
        "ja": f"{indicator.title.get('ja', indicator.id)} = {shown} {unit}、目標 {target} {unit}",
    }
