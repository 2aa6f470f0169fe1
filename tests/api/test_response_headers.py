"""Every response says nosniff and carries the Content-Security-Policy (pages, files, JSON); redirects
never repeat the Host header."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cityops.api.response_headers import CONTENT_SECURITY_POLICY, relative


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/meta",
        "/api/reports/public/form",
        "/api/reports/public/board",
        "/api/translations/vi",
        "/api/nowhere",
        "/openapi.json",
    ],
)
def test_pages_files_and_answers_carry_nosniff_and_the_policy(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.headers["x-content-type-options"] == "nosniff", path
    # A page may set a stricter policy of its own; every response has one.
    policy = dict(part.strip().split(" ", 1) for part in answer.headers["content-security-policy"].split(";"))
    assert policy["script-src"] in ("'self'", "'none'"), (path, policy)
    assert "default-src" in policy and "unsafe-eval" not in str(policy)


def test_answers_without_a_policy_of_their_own_get_the_default(client: TestClient) -> None:
    assert client.get("/api/meta").headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_a_static_file_carries_them_too(client: TestClient) -> None:
    page = client.get("/").text
    start = page.index("/static/")
    asset = page[start : page.index('"', start)]
    answer = client.get(asset)
    assert answer.status_code == 200, asset
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in answer.headers


def test_a_trailing_slash_redirect_does_not_repeat_a_forged_host(client: TestClient) -> None:
    answer = client.get("/api/meta/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert answer.status_code in (307, 308)
    assert answer.headers["location"] == "/api/meta"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://evil.example/api/meta?x=1#f", "/api/meta?x=1#f"),
        ("https://h//evil.example/x", "/evil.example/x"),
        ("/already/relative", "/already/relative"),
    ],
)
def test_relative(location: str, expected: str) -> None:
    assert relative(location) == expected
