"""Taking a citizen's report in: the public API and form, field errors, and the files' safety."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityops.core.kernel import Kernel
from cityops.reports.schema import report_files, reports

from .conftest import PNG, THU_DAU_MOT, form_token

GOOD = {
    "service_code": "flooding",
    "description": "Đường Yersin bị ngập nước sâu sau trận mưa lớn chiều nay",
    "lat": str(THU_DAU_MOT[0]),
    "long": str(THU_DAU_MOT[1]),
    "name": "Nguyễn Văn An",
    "email": "an@example.vn",
    "phone": "0912 345 678",
}


def counts(kernel: Kernel) -> tuple[int, int]:
    with kernel.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(reports)).scalar_one(),
            conn.execute(select(func.count()).select_from(report_files)).scalar_one(),
        )


def stored(attachments: Path) -> list[Path]:
    folder = attachments / "reports"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def public(client: TestClient) -> TestClient:
    del client.headers["Authorization"]
    return client


def test_a_report_is_taken_in_routed_and_pending(public: TestClient, kernel: Kernel) -> None:
    answer = public.post(
        "/api/reports/public/requests", data=GOOD, files=[("media", ("ảnh.png", PNG, "image/png"))]
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["status"] == "pending"
    assert created["agency_responsible"] == "so-xay-dung"
    with kernel.engine.connect() as conn:
        row = conn.execute(select(reports)).one()
        file = conn.execute(select(report_files)).one()
    assert (row.area_code, row.legacy_area_code) == ("2025:25747", "legacy:25747")
    assert row.contact_phone == "0912345678"
    assert (file.original_name, file.content_type) == ("ảnh.png", "image/png")
    # Not public before moderation.
    assert public.get(f"/api/reports/public/requests/{created['service_request_id']}").status_code == 404


def test_text_without_diacritics_is_sent_back(public: TestClient, kernel: Kernel) -> None:
    answer = public.post(
        "/api/reports/public/requests", data={**GOOD, "description": "duong bi ngap nuoc sau tran mua lon"}
    )
    assert answer.status_code == 422
    error = answer.json()["detail"][0]
    assert error["field"] == "description"
    assert "có dấu" in error["text"]["vi"]
    assert counts(kernel) == (0, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service_code": "potholes"}, "service_code"),
        ({"description": "ngắn"}, "description"),
        ({"lat": "", "long": ""}, "address_string"),
        ({"lat": "91"}, "lat"),
        ({"long": "abc"}, "long"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "12"}, "phone"),
    ],
)
def test_bad_fields_are_named(public: TestClient, changes: dict[str, str], field: str) -> None:
    answer = public.post("/api/reports/public/requests", data={**GOOD, **changes})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == field


def test_an_oversized_file_is_refused_and_nothing_remains(
    public: TestClient, kernel: Kernel, attachments: Path
) -> None:
    big = PNG + b"\0" * (10 * 1024 * 1024)
    answer = public.post(
        "/api/reports/public/requests",
        data=GOOD,
        files=[("media", ("a.png", PNG, "image/png")), ("media", ("big.png", big, "image/png"))],
    )
    assert answer.status_code == 413
    error = answer.json()["detail"][0]
    assert error["field"] == "media" and "10 MB" in error["text"]["vi"]
    assert counts(kernel) == (0, 0)
    assert stored(attachments) == []  # the first, accepted file is gone too


def test_content_type_comes_from_the_bytes(public: TestClient, kernel: Kernel) -> None:
    script = b"#!/bin/sh\nrm -rf /\n"
    answer = public.post(
        "/api/reports/public/requests", data=GOOD, files=[("media", ("photo.jpg", script, "image/jpeg"))]
    )
    assert answer.status_code == 415
    assert counts(kernel) == (0, 0)
    renamed = public.post(
        "/api/reports/public/requests", data=GOOD, files=[("media", ("x.pdf", PNG, "text/plain"))]
    )
    assert renamed.status_code == 201
    with kernel.engine.connect() as conn:
        assert conn.execute(select(report_files.c.content_type)).scalar_one() == "image/png"


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "a\x00b.png",
        "x" * 1000 + ".png",
        "ảnh hiện trường 📷.png",
        ".htaccess",
    ],
)
def test_odd_filenames_are_neutralised(
    public: TestClient, kernel: Kernel, attachments: Path, name: str
) -> None:
    answer = public.post(
        "/api/reports/public/requests", data=GOOD, files=[("media", (name, PNG, "image/png"))]
    )
    assert answer.status_code == 201, answer.text
    with kernel.engine.connect() as conn:
        file = conn.execute(select(report_files)).one()
    assert re.fullmatch(r"[0-9a-f]{32}\.png", file.stored_name)
    assert stored(attachments) == [attachments / "reports" / file.stored_name]
    assert (
        "/" not in file.original_name and "\\" not in file.original_name and "\x00" not in file.original_name
    )
    assert not file.original_name.startswith(".") and len(file.original_name) <= 120


def test_the_form_page_is_public_and_vietnamese_first(public: TestClient) -> None:
    page = public.get("/api/reports/public/form")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and "Gửi phản ánh" in page.text
    # The form runs the project's own place picker and nothing inline; the other pages run no script.
    policy = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "script-src 'none'" in public.get("/api/reports/public/board").headers["content-security-policy"]
    assert "通報" in public.get("/api/reports/public/form?lang=ja").text


def test_the_form_needs_its_own_token(public: TestClient, kernel: Kernel) -> None:
    page = public.get("/api/reports/public/form")
    token = form_token(page.text)
    forged = public.post("/api/reports/public/form?form_token=guess", data=GOOD)
    assert forged.status_code == 403 and "tải lại trang" in forged.text
    in_the_body = public.post("/api/reports/public/form", data={**GOOD, "form_token": token})
    assert in_the_body.status_code == 403  # only the address's token counts: it is checked before the body
    public.cookies.clear()
    no_cookie = public.post(f"/api/reports/public/form?form_token={token}", data=GOOD)
    assert no_cookie.status_code == 403
    assert counts(kernel) == (0, 0)
    page = public.get("/api/reports/public/form")
    token = form_token(page.text)
    sent = public.post(
        f"/api/reports/public/form?form_token={token}",
        data=GOOD,
        files=[("media", ("a.png", io.BytesIO(PNG), "image/png"))],
    )
    assert sent.status_code == 201 and "Cảm ơn" in sent.text
    assert counts(kernel) == (1, 1)


def test_the_form_shows_the_error_and_keeps_what_was_typed(public: TestClient) -> None:
    page = public.get("/api/reports/public/form")
    token = form_token(page.text)
    text = "den duong khong sang o phuong Phu Cuong"
    answer = public.post(f"/api/reports/public/form?form_token={token}", data={**GOOD, "description": text})
    assert answer.status_code == 422
    assert 'data-field="description"' in answer.text and "có dấu" in answer.text
    assert text in answer.text
