"""An incident attachment past its limit is refused over a real server as soon as it passes the limit,
naming the field; the rest of the body is never read."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.unfinished_upload import answer_to_unfinished_upload, file_part

from cityops.config import Settings
from cityops.core.incidents.desk import IncidentSettings

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # 1 MiB: well under the route's body limit (10 MiB and the multipart overhead), which stops nothing here.
    files = IncidentSettings(attachments_dir=tmp_path / "files", max_attachment_bytes=MIB)
    return Settings(database_url=database_url, incidents=files)


def test_an_oversized_attachment_is_refused_while_it_streams(
    live_server: str, auth_headers: dict[str, str], tmp_path: Path
) -> None:
    created = httpx.post(
        f"{live_server}/api/incidents",
        json={"title": "Cây đổ chắn đường", "category": "traffic"},
        headers=auth_headers,
    )
    assert created.status_code == 201, created.text
    status, answer, sent = answer_to_unfinished_upload(
        live_server,
        f"/api/incidents/{created.json()['id']}/attachments",
        auth_headers,
        file_part("file", "big.png", PNG),
        filler=4 * MIB,
    )
    assert status == 413, answer
    (error,) = answer["detail"]
    assert error["field"] == "file" and str(MIB) in error["msg"]
    assert sent > MIB
    assert not (tmp_path / "files").exists() or list((tmp_path / "files").iterdir()) == []
