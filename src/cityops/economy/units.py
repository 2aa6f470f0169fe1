"""Units a series is kept in, and the ways a statistics office's table writes them (ĐVT column)."""

from __future__ import annotations

from cityops.core.domain import Text

UNITS: dict[str, Text] = {
    "pct": {"vi": "%", "en": "%", "ja": "%"},
    "index": {"vi": "chỉ số (%)", "en": "index (%)", "ja": "指数（%）"},
    "bn_vnd": {"vi": "tỷ đồng", "en": "bn VND", "ja": "十億ドン"},
    "mn_usd": {"vi": "triệu USD", "en": "mn USD", "ja": "百万米ドル"},
    "projects": {"vi": "dự án", "en": "projects", "ja": "件"},
    "firms": {"vi": "doanh nghiệp", "en": "firms", "ja": "社"},
}

# Written forms, lower-cased, of each unit (the code itself, and its titles in every language).
_ALIASES: dict[str, str] = {
    **{code: code for code in UNITS},
    **{title.lower(): code for code, titles in UNITS.items() for title in titles.values()},
    "tỷ vnd": "bn_vnd",
    "triệu đô la mỹ": "mn_usd",
    "million usd": "mn_usd",
    "percent": "pct",
}


def unit_code(written: str) -> str | None:
    """The unit a written form names (`triệu USD` → `mn_usd`), or None when it names none."""
    return _ALIASES.get(" ".join(written.strip().lower().split()))
