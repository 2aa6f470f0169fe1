"""Reports tests: attachments in the test's own folder (`headers_for` is the shared one of tests/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cityops.config import Settings
from cityops.core.incidents.desk import IncidentSettings

# Phường Phú Cường (legacy:25747, Thành phố Thủ Dầu Một legacy:718); Dĩ An is legacy:724.
THU_DAU_MOT = (10.9804, 106.6517)
DI_AN = (10.9068, 106.7690)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


@pytest.fixture
def attachments(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture
def settings(database_url: str, node_modules: Path, attachments: Path) -> Settings:
    return Settings(
        database_url=database_url,
        node_modules=node_modules,
        incidents=IncidentSettings(attachments_dir=attachments),
    )


def form_token(page: str) -> str:
    """The token the form page puts in its form's address (`form_token=` query parameter)."""
    found = re.search(r'action="[^"]*[?&;]form_token=([^"&]+)"', page)
    assert found is not None, "the form's address carries no token"
    return found.group(1)
