"""Approved citizens' reports as open data: what the public board shows, never a contact detail nor a
report still waiting for moderation, and telephone numbers written in the text redacted."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from cityops.core.opendata import REDACTED

from .conftest import DI_AN, THU_DAU_MOT
from .test_moderation import CONTACT, submit

TODAY = {"since": "2020-01-01", "until": "2020-12-31"}


def test_only_approved_reports_are_published_without_contact(client: TestClient) -> None:
    text = "Cây đổ chắn đường, ai cần thêm thông tin gọi 0912 345 678"
    approved = submit(client, THU_DAU_MOT, text=text)
    waiting = submit(client, DI_AN, text="Đèn đường hỏng cả dãy phố")
    assert client.post(f"/api/reports/{approved}/approve").status_code == 200
    del client.headers["Authorization"]
    answer = client.get("/api/opendata/datasets/reports.requests.csv")
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["report_id"] for r in rows] == [approved] and "Đèn đường" not in answer.text
    assert waiting != approved
    assert rows[0]["description"] == f"Cây đổ chắn đường, ai cần thêm thông tin gọi {REDACTED}"
    assert rows[0]["progress"] == "assigned" and rows[0]["status"] == "open"
    for suffix in ("csv", "geojson", "parquet"):
        body = client.get(f"/api/opendata/datasets/reports.requests.{suffix}").content
        for secret in CONTACT.values():
            assert secret.encode() not in body, suffix
    outside = client.get("/api/opendata/datasets/reports.requests.csv", params=TODAY)
    assert outside.text.strip().count("\n") == 0  # only the header: nothing sent in 2020
