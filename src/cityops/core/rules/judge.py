"""How each kind of rule judges the newest point of a series, and the alert text it gives (vi, en, ja).

A verdict is True (the alert should be open), False (it should be cleared) or None (no decision yet:
a duration not yet reached, a rate with a single point, an indicator without a value).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from cityops.core import units
from cityops.core.domain import LANGUAGES, MetricSpec, Text
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


# "{reading}" after the words: "trên 80%" / "above 80%" / "80% 超".
COMPARISONS: dict[str, Text] = {
    ">": {"vi": "trên {limit}", "en": "above {limit}", "ja": "{limit} 超"},
    ">=": {"vi": "từ {limit} trở lên", "en": "{limit} or more", "ja": "{limit} 以上"},
    "<": {"vi": "dưới {limit}", "en": "below {limit}", "ja": "{limit} 未満"},
    "<=": {"vi": "không quá {limit}", "en": "{limit} or less", "ja": "{limit} 以下"},
}


def _metric(spec: MetricSpec | None, name: str | None, language: str) -> str:
    if spec is not None:
        return spec.title.get(language) or spec.title.get("vi") or spec.name
    return name or ""


def _unit(spec: MetricSpec | None) -> str:
    return spec.unit if spec is not None else ""


def _compared(rule: ThresholdRule | DurationRule, spec: MetricSpec | None, language: str) -> str:
    limit = units.reading(rule.value, _unit(spec), language)
    if units.state_word(rule.value, _unit(spec), language) is None and _unit(spec) in units.STATES:
        limit = units.number(rule.value, language, digits=2)
    return COMPARISONS[rule.op][language].format(limit=limit)


def describe(
    rule: ThresholdRule | DurationRule | RateOfChangeRule,
    state: SeriesState,
    value: float,
    spec: MetricSpec | None = None,
) -> Text:
    """What the operator reads: "Mức chiếm dụng 85% (trên 80%)", "Trạng thái: mất tín hiệu"; `spec` is
    the rule's metric as its domain declares it (title, unit)."""
    unit = _unit(spec)
    result: Text = {}
    for language in LANGUAGES:
        title, now = _metric(spec, rule.metric, language), units.reading(value, unit, language)
        if isinstance(rule, ThresholdRule):
            if units.state_word(value, unit, language) is not None:
                result[language] = f"{title}: {now}"
            else:
                result[language] = f"{title} {now} ({_compared(rule, spec, language)})"
        elif isinstance(rule, DurationRule):
            minutes = units.number(rule.minutes, language)
            compared = _compared(rule, spec, language)
            result[language] = {
                "vi": f"{title} {compared} liên tục {minutes} phút (hiện {now})",
                "en": f"{title} {compared} for {minutes} min (now {now})",
                "ja": f"{title}が{minutes}分間続けて{compared}（現在 {now}）",
            }[language]
        else:
            per_minute = {"vi": "/phút", "en": "/min", "ja": "/分"}[language]
            rate = units.reading(state.rate or 0.0, unit, language) + per_minute
            limit = units.reading(rule.value, unit, language) + per_minute
            compared = COMPARISONS[rule.op][language].format(limit=limit)
            result[language] = {
                "vi": f"{title} thay đổi {rate} ({compared})",
                "en": f"{title} changing by {rate} ({compared})",
                "ja": f"{title}の変化 {rate}（{compared}）",
            }[language]
    return result


def describe_absence(rule: AbsenceRule, spec: MetricSpec | None = None) -> Text:
    minutes = {language: units.number(rule.minutes, language) for language in LANGUAGES}
    if rule.metric is None:
        return {
            "vi": f"Không nhận được dữ liệu nào trong {minutes['vi']} phút",
            "en": f"No data received for {minutes['en']} min",
            "ja": f"{minutes['ja']}分間データを受信していません",
        }
    title = {language: _metric(spec, rule.metric, language) for language in LANGUAGES}
    return {
        "vi": f"Không nhận được dữ liệu “{title['vi']}” trong {minutes['vi']} phút",
        "en": f"No “{title['en']}” data received for {minutes['en']} min",
        "ja": f"{minutes['ja']}分間「{title['ja']}」のデータを受信していません",
    }


def describe_indicator(indicator: Indicator, value: float | None) -> Text:
    result: Text = {}
    for language in LANGUAGES:
        title = indicator.title.get(language) or indicator.title.get("vi") or indicator.id
        shown = "—" if value is None else units.reading(value, indicator.unit, language)
        if indicator.target is None:
            result[language] = f"{title}: {shown}"
            continue
        target = units.reading(indicator.target, indicator.unit, language)
        goal = {
            ("vi", "higher"): f"mục tiêu từ {target} trở lên",
            ("vi", "lower"): f"mục tiêu không quá {target}",
            ("en", "higher"): f"target {target} or more",
            ("en", "lower"): f"target {target} or less",
            ("ja", "higher"): f"目標 {target} 以上",
            ("ja", "lower"): f"目標 {target} 以下",
        }[(language, indicator.direction)]
        result[language] = f"{title}: {shown} ({goal})" if language != "ja" else f"{title}：{shown}（{goal}）"
    return result
