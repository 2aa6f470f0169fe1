"""Settings come from CITYOPS_* variables, then cityops.toml, then defaults; bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cityops.config import Settings


def test_toml_file_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cityops.toml").write_text(
        'port = 9000\ndomains = ["wifi"]\nlanguage = "ja"\n', encoding="utf-8"
    )
    assert (Settings().port, Settings().domains, Settings().language) == (9000, ["wifi"], "ja")
    monkeypatch.setenv("CITYOPS_PORT", "9100")
    assert Settings().port == 9100


def test_bad_values_name_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYOPS_PORT", "70000")
    with pytest.raises(ValidationError, match="port"):
        Settings()
    monkeypatch.delenv("CITYOPS_PORT")
    (tmp_path / "cityops.toml").write_text('colour = "red"\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="colour"):
        Settings()
