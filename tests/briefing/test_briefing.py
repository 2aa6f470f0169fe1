"""`cityops briefing` prints a PDF through Chromium; read back with pdftotext it holds the figures the API
gives, in Vietnamese, English and Japanese, each with its source, and the simulated ones marked."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityops.briefing.texts import TEXTS, number, signed_percent
from cityops.cli import app
from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.economy import demo

pytestmark = pytest.mark.browser
UNITS = {"vi": "triệu USD", "en": "mn USD", "ja": "百万米ドル"}


def pdf_text(path: Path) -> str:
    """The PDF's text with all white space removed: pdftotext puts spaces where the font changes
    (between Latin digits and Japanese) and breaks lines where the cell does, so texts are compared
    without it (`bare`)."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return bare(result.stdout.decode("utf-8"))


def bare(text: str) -> str:
    return "".join(text.split())


def briefing(database_url: str, month: str, lang: str, folder: Path) -> str:
    output = folder / f"briefing-{month}-{lang}.pdf"
    result = CliRunner().invoke(
        app,
        [
            "briefing",
            "--month",
            month,
            "--lang",
            lang,
            "--output",
            str(output),
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert output.read_bytes().startswith(b"%PDF")
    return pdf_text(output)


@pytest.mark.parametrize("lang", ["vi", "en", "ja"])
def test_the_briefing_holds_the_apis_figures(
    lang: str, kernel: Kernel, client: TestClient, database_url: str, tmp_path: Path
) -> None:
    with write_transaction(kernel.engine) as conn:
        demo.load(conn, date(2026, 12, 4), {i.id for i in kernel.indicators})
    text = briefing(database_url, "2026-11", lang, tmp_path)
    texts = TEXTS[lang]
    assert bare(texts["title"].format(month=11, year=2026)) in text
    assert bare(texts["operations"]) in text
    overview = client.get("/api/economy/overview", params={"year": 2026, "through": 11, "lang": lang}).json()
    shown = [row for row in overview if row["period"] is not None]
    assert len(shown) >= 8
    for row in shown:
        assert bare(row["series"]["title"]) in text, row["series"]["code"]
        if row["value"] is not None:
            assert bare(f"{number(row['value'], lang)} {row['series']['unit_title']}") in text, row["series"][
                "code"
            ]
        if row["change_pct"] is not None:
            assert bare(signed_percent(row["change_pct"], lang)) in text, row["series"]["code"]
    assert text.count(bare(texts["simulated"])) >= len(shown)  # the demo's figures are marked simulated
    board = client.get("/api/economy/programme", params={"today": "2026-11-30"}).json()
    for project in board["projects"]:
        assert bare(project["title"][lang]) in text
    published = client.get("/api/economy/rankings", params={"by": "country", "lang": lang}).json()[
        "published"
    ]
    [japan] = published
    assert bare(f"{number(japan['registered_musd'], lang)} {UNITS[lang]}") in text
    for indicator in client.get("/api/indicators").json():
        assert bare(indicator["title"][lang]) in text


def test_the_published_2021_figures_are_printed_as_published(
    kernel: Kernel, client: TestClient, database_url: str, tmp_path: Path
) -> None:
    text = briefing(database_url, "2021-09", "ja", tmp_path)
    economy = text[text.index("経済・投資") : text.index("スマートシティ計画")]
    for change in (2.93, 1.9, 26.7, 34.0):
        assert bare(signed_percent(change, "ja")) in economy
    assert "超1,500百万米ドル" in economy
    assert "327件" in economy and "65中2位" in economy
    assert "UBNDtỉnhBìnhDương" in economy
    assert TEXTS["ja"]["simulated"] not in economy  # published, not simulated


def test_a_bad_month_is_refused(database_url: str) -> None:
    result = CliRunner().invoke(app, ["briefing", "--month", "2026-13", "--database-url", database_url])
    assert result.exit_code == 2
    assert re.search(r"not a month", result.output)
