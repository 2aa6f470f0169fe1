"""Public submissions are limited per client address (form and API): past the limit, 429 with Retry-After
and the reason in vi/en/ja, and nothing of the refused report is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.kernel import Kernel
from cityops.reports.schema import report_files, reports
from cityops.reports.settings import ReportSettings

from .conftest import PNG, form_token

GOOD = {
    "service_code": "lighting",
    "description": "Đèn đường trên đại lộ Bình Dương bị tắt cả tuần nay",
    "address_string": "Đại lộ Bình Dương, phường Phú Cường",
}
LIMIT = "3/minute"


@pytest.fixture
def app(kernel: Kernel, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setenv("CITYOPS_REPORTS_SUBMISSION_LIMIT", LIMIT)
    return create_app(kernel, settings)


def visitor(app: FastAPI, address: str) -> Iterator[TestClient]:
    with TestClient(app, client=(address, 40000)) as client:
        yield client


@pytest.fixture
def citizen(app: FastAPI) -> Iterator[TestClient]:
    yield from visitor(app, "203.0.113.7")


@pytest.fixture
def neighbour(app: FastAPI) -> Iterator[TestClient]:
    yield from visitor(app, "203.0.113.8")


def stored(kernel: Kernel, attachments: Path) -> tuple[int, int, int]:
    with kernel.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(reports)).scalar_one()
        files = conn.execute(select(func.count()).select_from(report_files)).scalar_one()
    folder = attachments / "reports"
    return rows, files, len(list(folder.iterdir())) if folder.exists() else 0


def send(client: TestClient, **changes: str) -> int:
    answer = client.post(
        "/api/reports/public/requests",
        data={**GOOD, **changes},
        files=[("media", ("đèn.png", PNG, "image/png"))],
    )
    return answer.status_code


def test_the_api_answers_429_past_the_limit_and_stores_nothing(
    citizen: TestClient, neighbour: TestClient, kernel: Kernel, attachments: Path
) -> None:
    # A refused field counts as an attempt too.
    assert [send(citizen), send(citizen, description="quá ngắn"), send(citizen)] == [201, 422, 201]
    before = stored(kernel, attachments)
    assert before == (2, 2, 2)
    refused = citizen.post(
        "/api/reports/public/requests", data=GOOD, files=[("media", ("đèn.png", PNG, "image/png"))]
    )
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    error = refused.json()["detail"][0]
    assert error["field"] == "client_address" and error["code"] == "too_many_reports"
    assert error["retry_after"] == wait
    assert f"{wait} giây" in error["text"]["vi"] and f"{wait} seconds" in error["text"]["en"]
    assert f"{wait} 秒後" in error["text"]["ja"]
    assert stored(kernel, attachments) == before
    # Another address keeps its own count.
    assert send(neighbour) == 201


@pytest.mark.parametrize(
    ("lang", "text"),
    [("vi", "quá nhiều phản ánh"), ("en", "Too many reports"), ("ja", "通報が多すぎます")],
)
def test_the_form_says_so_in_its_language_and_keeps_what_was_typed(
    citizen: TestClient, kernel: Kernel, attachments: Path, lang: str, text: str
) -> None:
    for _ in range(3):
        assert send(citizen) == 201
    page = citizen.get(f"/api/reports/public/form?lang={lang}")
    token = form_token(page.text)
    typed = "Cột đèn nghiêng sắp đổ trước trường tiểu học"
    answer = citizen.post(
        f"/api/reports/public/form?lang={lang}&form_token={token}",
        data={**GOOD, "description": typed},
        files=[("media", ("đèn.png", PNG, "image/png"))],
    )
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    assert 'data-field="client_address"' in answer.text and text in answer.text
    assert typed in answer.text
    assert stored(kernel, attachments) == (3, 3, 3)


def test_waiting_the_announced_time_is_enough(
    kernel: Kernel, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYOPS_REPORTS_SUBMISSION_LIMIT", "1/second")
    with TestClient(create_app(kernel, settings)) as client:
        assert send(client) == 201
        refused = client.post("/api/reports/public/requests", data=GOOD)
        assert refused.status_code == 429
        time.sleep(int(refused.headers["Retry-After"]))
        assert send(client) == 201


def test_a_bad_limit_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYOPS_REPORTS_SUBMISSION_LIMIT", "often")
    with pytest.raises(ValidationError, match="submission_limit"):
        ReportSettings()
