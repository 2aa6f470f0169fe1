"""How a measured value reads to a person, in vi / en / ja: numbers in the language's own format
(Vietnamese "1.234,5", English and Japanese "1,234.5"), the words for each unit the domains declare, and
words for the units that name states ("1 up / 0 down", "0-3").

Alert texts are written with it; the dashboard gets the same words through /api/translations
(`unit.<code>`, `value.<code>.<n>`), so a reading looks the same on a tile, in the feed and in an alert.
"""

from __future__ import annotations

import math

from cityops.core.domain import LANGUAGES, Text

UNITS: dict[str, Text] = {
    "%": {"vi": "%", "en": "%", "ja": "%"},
    "vehicles/min": {"vi": "xe/phút", "en": "vehicles/min", "ja": "台/分"},
    "vehicles": {"vi": "xe", "en": "vehicles", "ja": "台"},
    "km/h": {"vi": "km/h", "en": "km/h", "ja": "km/h"},
    "cm": {"vi": "cm", "en": "cm", "ja": "cm"},
    "users": {"vi": "người dùng", "en": "users", "ja": "人"},
    "MB": {"vi": "MB", "en": "MB", "ja": "MB"},
    "GB": {"vi": "GB", "en": "GB", "ja": "GB"},
    "sessions": {"vi": "phiên", "en": "sessions", "ja": "セッション"},
    "devices": {"vi": "thiết bị", "en": "devices", "ja": "台"},
    "s": {"vi": "giây", "en": "s", "ja": "秒"},
    "points": {"vi": "điểm", "en": "points", "ja": "点"},
    "dossiers": {"vi": "hồ sơ", "en": "dossiers", "ja": "件"},
    "zones": {"vi": "vùng", "en": "zones", "ja": "区間"},
}

# Units whose values are states: each value in words.
STATES: dict[str, dict[int, Text]] = {
    "1 up / 0 down": {
        1: {"vi": "hoạt động", "en": "working", "ja": "稼働中"},
        0: {"vi": "mất tín hiệu", "en": "down", "ja": "停止"},
    },
    "0-3": {
        0: {"vi": "thông thoáng", "en": "free flow", "ja": "順調"},
        1: {"vi": "đông xe", "en": "heavy", "ja": "混雑"},
        2: {"vi": "ùn ứ", "en": "queuing", "ja": "渋滞気味"},
        3: {"vi": "tắc nghẽn", "en": "jammed", "ja": "渋滞"},
    },
    "bool": {
        1: {"vi": "có", "en": "yes", "ja": "はい"},
        0: {"vi": "không", "en": "no", "ja": "いいえ"},
    },
}


def number(value: float, language: str, digits: int = 1) -> str:
    """At most `digits` decimals, trailing zeros dropped, grouped in the language's way."""
    if not math.isfinite(value):
        return "—"
    text = f"{round(value, digits):,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if language == "vi":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def unit_word(unit: str, language: str) -> str:
    return UNITS.get(unit, {}).get(language, unit)


def state_word(value: float, unit: str, language: str) -> str | None:
    """The state a value names, where its unit names states and the value is one of them."""
    states = STATES.get(unit)
    if states is None or value != int(value) or int(value) not in states:
        return None
    return states[int(value)][language]


def reading(value: float, unit: str, language: str) -> str:
    """ "85 %", "1.234,5 xe/phút", "mất tín hiệu"."""
    state = state_word(value, unit, language)
    if state is not None:
        return state
    if unit in STATES:  # a value between states: the number alone
        return number(value, language, digits=2)
    word = unit_word(unit, language)
    if unit == "%":
        return f"{number(value, language)}%"
    return f"{number(value, language)} {word}".rstrip()


def interface_texts(language: str) -> dict[str, str]:
    """The dashboard's `unit.<code>` and `value.<code>.<n>` keys in one language."""
    if language not in LANGUAGES:
        raise ValueError(language)
    texts = {f"unit.{code}": words[language] for code, words in UNITS.items()}
    for code, states in STATES.items():
        if code != "bool":  # the page reads booleans as value.true / value.false
            texts |= {f"value.{code}.{value}": words[language] for value, words in states.items()}
    return texts
