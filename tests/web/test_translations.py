"""The kernel's interface texts: complete in vi / en / ja, and the only source of text on the page."""

from __future__ import annotations

import json
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest

from cityops.core.access.accounts import Role
from cityops.core.domain import LANGUAGES
from cityops.core.incidents.desk import TRANSITIONS, State
from cityops.core.rules.definitions import Severity
from cityops.web import pages

WEB = Path(pages.__file__).parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def texts(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((WEB / "translations" / f"{language}.json").read_text("utf-8"))
    return loaded


def scripts() -> str:
    return "\n".join(path.read_text("utf-8") for path in sorted((WEB / "static" / "js").glob("*.js")))


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    vietnamese = texts("vi")
    for language in LANGUAGES:
        other = texts(language)
        assert other.keys() == vietnamese.keys(), language
        for key, text in other.items():
            expected = set(PLACEHOLDER.findall(vietnamese[key]))
            assert set(PLACEHOLDER.findall(text)) == expected, (language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_are_trimmed_non_empty_and_composed(language: str) -> None:
    for key, text in texts(language).items():
        assert text.strip() == text and text, (language, key)
        # Decomposed diacritics render badly in some fonts and break search: keep everything NFC.
        assert unicodedata.normalize("NFC", text) == text, (language, key)


def test_vietnamese_is_the_default_with_its_diacritics() -> None:
    vietnamese = texts("vi")
    assert vietnamese["app.title"] == "Trung tâm điều hành thành phố thông minh"
    assert vietnamese["legend.approximate"] == "Ranh giới phường/xã là gần đúng"
    assert pages.DEFAULT_LANGUAGE == "vi"


def test_simulated_banner_reads_in_all_three_languages() -> None:
    assert pages.simulated_banner() == "DỮ LIỆU MÔ PHỎNG — Simulated data — シミュレーションデータ"


def test_every_key_the_page_uses_exists() -> None:
    template = (WEB / "templates" / "dashboard.html").read_text("utf-8")
    used = set(re.findall(r'data-i18n(?:-title|-aria-label)?="([^"{]+)"', template))
    used |= set(re.findall(r"""\bt\[["']([^"']+)["']\]""", template))
    used |= set(re.findall(r"""\bt\(\s*'([^'$]+)'""", scripts()))
    used |= {f"language.{code}" for code in LANGUAGES}
    assert len(used) > 20  # the patterns above still find the page's keys
    assert used - texts("vi").keys() == set()


def test_keys_built_at_run_time_exist_for_every_value() -> None:
    source = scripts()
    families = {
        "status": ["ok", "warn", "bad", "unknown"],
        "live": ["connecting", "online", "offline"],
        "area.level": ["province", "district", "ward"],
        "incident.state": list(get_args(State)),
        "severity": list(get_args(Severity)),
        "role": [role.value for role in Role],
        "incidents.action": sorted(set().union(*TRANSITIONS.values())),
        "incidents.escalated": ["acknowledge", "resolve"],
        "incidents.due": ["acknowledge", "resolve"],
        "incidents.overdue": ["acknowledge", "resolve"],
        "incidents.history": ["created", "comment", "attachment", "alert", "alert_cleared"],
    }
    for prefix, values in families.items():
        assert f"`{prefix}.${{" in source, prefix  # the scripts still build these keys
        for value in values:
            assert f"{prefix}.{value}" in texts("vi"), f"{prefix}.{value}"


class TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [value or "" for name, value in attrs if name in ("title", "aria-label", "alt")]

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())


def test_the_template_has_no_text_of_its_own() -> None:
    marked = {key: f"[[{key}]]" for key in texts("vi")}
    html = pages.templates.env.get_template("dashboard.html").render(
        language="vi", languages=LANGUAGES, t=marked, banner="[[banner]]", version="0.0.0"
    )
    collector = TextCollector()
    collector.feed(html)
    assert collector.texts
    for text in collector.texts + collector.attributes:
        assert re.fullmatch(r"\[\[[\w./%-]+\]\]", text), text
