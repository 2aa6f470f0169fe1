"""Uploads over a real server: a file past its limit is refused as soon as it passes it (the rest of the
body is never read), and the form's token is checked before any of the body is read."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.unfinished_upload import answer_to_unfinished_upload, file_part

from cityops.core.incidents.attachments import MAX_FILE_BYTES

from .conftest import PNG, form_token

MIB = 1024 * 1024


def test_an_oversized_file_is_refused_while_it_streams(live_server: str, attachments: Path) -> None:
    start = file_part("media", "ảnh lớn.png", PNG)
    status, answer, sent = answer_to_unfinished_upload(
        live_server, "/api/reports/public/requests", {}, start, filler=MAX_FILE_BYTES + 8 * MIB
    )
    assert status == 413, answer
    (error,) = answer["detail"]
    assert error["field"] == "media" and "10 MB" in error["text"]["vi"] and "ảnh lớn.png" in error["msg"]
    assert sent > MAX_FILE_BYTES  # what it answered came before the end of the body, which never came
    assert not (attachments / "reports").exists() or list((attachments / "reports").iterdir()) == []


def test_the_forms_file_is_refused_while_it_streams(live_server: str) -> None:
    page = httpx.get(f"{live_server}/api/reports/public/form")
    token = form_token(page.text)
    cookie = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
    status, answer, _ = answer_to_unfinished_upload(
        live_server,
        f"/api/reports/public/form?form_token={token}",
        {"Cookie": cookie},
        file_part("media", "big.png", PNG),
        filler=MAX_FILE_BYTES + 8 * MIB,
    )
    assert status == 413 and 'data-field="media"' in answer and "10 MB" in answer


def test_a_bad_form_token_is_refused_before_the_body_is_read(live_server: str) -> None:
    page = httpx.get(f"{live_server}/api/reports/public/form")
    cookie = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
    for target, headers in (
        ("/api/reports/public/form?form_token=guess", {"Cookie": cookie}),
        (f"/api/reports/public/form?form_token={form_token(page.text)}", {}),  # no cookie
    ):
        status, answer, _ = answer_to_unfinished_upload(
            live_server, target, headers, file_part("media", "a.png", PNG), filler=0
        )
        assert status == 403 and 'data-field="form_token"' in answer, target
