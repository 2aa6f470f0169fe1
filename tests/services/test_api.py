"""The services API: imports over HTTP in every format, errors that name the row and field, the index for
any period and scope, rankings, the panel's data, per-dossier alerts in the operations room, the apology
letter and the editable calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.core.rules.definitions import SEVERITIES
from cityops.services import routes_data
from cityops.services.runtime import ServicesRuntime
from cityops.services.timing.calendar import VN_TZ

from .conftest import Clock, csv_bytes, dossier_row, numbered, xlsx_bytes

CSV = {"Content-Type": "text/csv"}
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CODE = "H57.S01-250303-0001"


@pytest.fixture
def api(runtime: ServicesRuntime, client: TestClient) -> Iterator[TestClient]:
    """The admin client, on an app whose services runtime is the test's (fixed clock, small catalogue)."""
    yield client


def open_row(code: str = CODE, **changes: Any) -> dict[str, Any]:
    row = dossier_row(code=code, status="processing", status_at="2025-03-03T09:00:00+07:00", **changes)
    del row["finished_at"], row["returned_at"]
    return row


def test_a_csv_and_an_xlsx_file_are_imported_over_http(api: TestClient) -> None:
    first = api.post("/api/services/imports?source=march.csv", content=csv_bytes(numbered(3)), headers=CSV)
    assert first.status_code == 201, first.text
    assert first.json()["inserted"] == 3
    rows = [dossier_row(code=f"H57.S01-250303-{n:04d}", channel="1") for n in (3, 4)]
    second = api.post("/api/services/imports?source=more.xlsx", content=xlsx_bytes(rows), headers=XLSX)
    assert second.status_code == 201, second.text
    assert (second.json()["inserted"], second.json()["updated"]) == (1, 1)
    index = api.get("/api/services/index?period=2025-03").json()
    assert index["counts"]["received"] == 4
    assert (index["counts"]["online"], index["counts"]["walk_in"]) == (2, 2)
    assert [i["source"] for i in api.get("/api/services/imports").json()] == ["more.xlsx", "march.csv"]


def test_a_refused_file_answers_422_naming_row_code_and_field(api: TestClient) -> None:
    rows = [*numbered(2), dossier_row(code="H57.S01-250303-0003", channel="9")]
    answer = api.post("/api/services/imports", content=csv_bytes(rows), headers=CSV)
    assert answer.status_code == 422
    body = answer.json()
    assert body["stored"] == 0
    (problem,) = body["detail"]
    assert (problem["row"], problem["code"], problem["field"]) == (3, "H57.S01-250303-0003", "channel")
    assert api.get("/api/services/index?period=2025").json()["counts"]["received"] == 0


@pytest.mark.parametrize("body", [b"not a zip at all", b"PK\x03\x04 truncated zip"])
def test_a_body_that_is_not_a_workbook_is_refused_as_xlsx(api: TestClient, body: bytes) -> None:
    answer = api.post("/api/services/imports", content=body, headers=XLSX)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == "file"
    assert api.get("/api/services/index?period=2025").json()["counts"]["received"] == 0


def test_an_unknown_media_type_or_too_large_a_body_is_refused(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = api.post("/api/services/imports", content=b"x", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415 and answer.json()["detail"][0]["field"] == "content-type"
    monkeypatch.setattr(routes_data, "IMPORT_MAX_BYTES", 100)
    answer = api.post("/api/services/imports", content=csv_bytes(numbered(3)), headers=CSV)
    assert answer.status_code == 413


def test_events_over_http_and_a_nonsensical_one_refused(api: TestClient) -> None:
    api.post("/api/services/imports", content=csv_bytes([open_row()]), headers=CSV)
    done = {"code": CODE, "status": "done", "at": "2025-03-06T14:00:00+07:00"}
    answer = api.post("/api/services/events", json=done)
    assert answer.status_code == 200 and answer.json()["changed"] == 1
    back = {"code": CODE, "status": "processing", "at": "2025-03-07T08:00:00+07:00"}
    refused = api.post(
        "/api/services/events",
        content=f'{{"code": "{CODE}", "status": "done", "at": "2025-03-07T08:00:00+07:00"}}\n'.encode()
        + str(back).replace("'", '"').encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert refused.status_code == 422
    (problem,) = refused.json()["detail"]
    assert (problem["row"], problem["field"]) == (2, "status")
    assert "done (10) to processing (4)" in problem["msg"]


def test_the_index_for_any_period_and_scope(api: TestClient) -> None:
    api.post("/api/services/imports", content=csv_bytes(numbered(4)), headers=CSV)
    province = api.get("/api/services/index?period=2025-Q1").json()
    assert province["period"] == "2025-Q1" and province["counts"]["received"] == 4
    assert sum(g["max_points"] for g in province["groups"]) == 100
    assert province["index"] == pytest.approx(
        100 * province["points"] / province["available_points"], abs=0.01
    )
    assert {t["id"] for t in province["targets"]} >= {"online_dossiers", "satisfaction"}
    assert province["trio"]["digital_take_up"] == 1.0
    agency = api.get("/api/services/index?period=2025&scope=agency:H57.S01").json()
    assert agency["counts"]["received"] == 4 and agency["name"] == "Sở Xây dựng"
    assert api.get("/api/services/index?period=2025-13").status_code == 422
    assert api.get("/api/services/index?scope=district").json()["detail"][0]["field"] == "scope"
    assert api.get("/api/services/index?scope=locality:legacy:999").status_code == 404


def test_localities_are_ranked_by_index(api: TestClient) -> None:
    rows = [
        open_row("H57.W25741-250303-0001", agency_code="H57.W25741", area_code="legacy:25741"),
        dossier_row(code="H57.D718-250303-0001", agency_code="H57.D718", area_code="legacy:718"),
    ]
    for row in rows:
        row["procedure_code"] = "1.000002"
        row["due_at"] = "2025-03-04T08:00:00+07:00"
        row["channel"], row["online_level"] = "1", ""
        row["fee_vnd"], row["paid_online"] = "0", ""
    answer = api.post("/api/services/imports", content=csv_bytes(rows), headers=CSV)
    assert answer.status_code == 201, answer.text
    ranking = api.get("/api/services/rankings?kind=locality&period=2025-03").json()
    assert ranking["scheme"] == "legacy"
    (thu_dau_mot,) = ranking["items"]  # the ward belongs to Thủ Dầu Một: one locality, two dossiers
    assert (thu_dau_mot["code"], thu_dau_mot["received"], thu_dau_mot["rank"]) == ("legacy:718", 2, 1)
    agencies = api.get("/api/services/rankings?kind=agency&period=2025-03").json()["items"]
    indices = [a["index"] for a in agencies]
    assert indices == sorted(indices, reverse=True) and [a["rank"] for a in agencies] == [1, 2]


def test_the_panel_has_what_the_dashboard_draws(api: TestClient, clock: Clock) -> None:
    api.post(
        "/api/services/imports",
        content=csv_bytes([*numbered(3), open_row("H57.S01-250303-0009")]),
        headers=CSV,
    )
    panel = api.get("/api/services/panel?period=2025").json()
    assert set(panel) >= {"province", "localities", "agencies", "trends", "late", "due_soon", "channels"}
    assert sum(panel["channels"].values()) == panel["province"]["counts"]["received"] == 4
    assert [t["period"] for t in panel["trends"]][:3] == ["2025-01", "2025-02", "2025-03"]
    (late,) = panel["late"]
    assert late["code"] == "H57.S01-250303-0009" and late["working_hours_late"] > 0


def tiles(api: TestClient) -> dict[str, float | None]:
    wanted = ("services.dossiers_due_soon", "services.dossiers_overdue")
    return {i["id"]: i["value"] for i in api.get("/api/indicators").json() if i["id"] in wanted}


def test_dossier_alerts_reach_the_operations_room(api: TestClient, clock: Clock) -> None:
    clock.now = datetime(2025, 3, 7, 10, 0, tzinfo=VN_TZ)  # Friday: due Monday 10 March 08:00
    api.post("/api/services/imports", content=csv_bytes([open_row()]), headers=CSV)
    assert api.post("/api/services/alerts/scan").json()["changed"] == 0
    clock.now = datetime(2025, 3, 9, 10, 0, tzinfo=VN_TZ)  # within 24 h
    assert api.post("/api/services/alerts/scan").json()["changed"] == 1
    (alert,) = api.get("/api/alerts?rule_id=services-dossier-due-soon").json()["items"]
    assert alert["alertSource"] == f"urn:ngsi-ld:Dossier:{CODE}" and alert["subCategory"] == "dossierOverdue"
    assert tiles(api) == {"services.dossiers_due_soon": 1.0, "services.dossiers_overdue": 0.0}
    clock.now = datetime(2025, 3, 10, 9, 0, tzinfo=VN_TZ)
    assert api.post("/api/services/alerts/scan").json()["changed"] == 2  # due soon cleared, late raised
    (late,) = api.get("/api/alerts?rule_id=services-dossier-late").json()["items"]
    assert late["legacyAreaCode"] == "legacy:74"
    # Paperwork, not an emergency: below a traffic jam or a camera down, and the tile counts its alerts.
    templates = api.get("/api/rule-templates").json()
    operational = [t["defaults"]["severity"] for t in templates if t["defaults"]["category"] == "traffic"]
    assert operational and SEVERITIES.index(late["severity"]) < min(map(SEVERITIES.index, operational))
    assert tiles(api) == {"services.dossiers_due_soon": 0.0, "services.dossiers_overdue": 1.0}
    api.post("/api/services/events", json={"code": CODE, "status": "done", "at": "2025-03-10T08:30:00+07:00"})
    assert api.get("/api/alerts?rule_id=services-dossier-late").json()["items"] == []


def test_the_apology_letter_names_the_dossier_and_a_new_date(api: TestClient, clock: Clock) -> None:
    clock.now = datetime(2025, 3, 10, 9, 0, tzinfo=VN_TZ)
    api.post(
        "/api/services/imports",
        content=csv_bytes([open_row(), dossier_row(code="H57.S01-250303-0002")]),
        headers=CSV,
    )
    letter = api.get(f"/api/services/dossiers/{CODE}/apology-letter", params={"applicant": "Nguyễn Văn A"})
    assert letter.status_code == 200 and letter.headers["content-type"].startswith("text/html")
    text = letter.text
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and CODE in text and "Nguyễn Văn A" in text
    assert "08 giờ 00 phút, ngày 10 tháng 03 năm 2025" in text  # the due date missed
    assert "ngày 13 tháng 03 năm 2025" in text  # 3 working days later: half the 5-day procedure, rounded up
    done = api.get("/api/services/dossiers/H57.S01-250303-0002/apology-letter")
    assert done.status_code == 409 and done.json()["detail"][0]["field"] == "status"
    early = api.get(
        f"/api/services/dossiers/{CODE}/apology-letter", params={"new_due": "2025-03-09T08:00:00+07:00"}
    )
    assert early.status_code == 422 and early.json()["detail"][0]["field"] == "new_due"
    assert api.get("/api/services/dossiers/H57.S01-250303-0404/apology-letter").status_code == 404


def test_a_swapped_day_moves_the_calendars_due_dates(api: TestClient) -> None:
    query = {"procedure_code": "1.000001", "received_at": "2025-03-03T08:00:00+07:00"}
    before = datetime.fromisoformat(api.get("/api/services/calendar/due", params=query).json()["due_at"])
    overrides = [{"day": "2025-03-05", "working": False, "reason": "Nghỉ thêm"}]
    assert api.put("/api/services/calendar/overrides", json=overrides).status_code == 200
    after = datetime.fromisoformat(api.get("/api/services/calendar/due", params=query).json()["due_at"])
    assert after - before == timedelta(days=1)
    assert api.get("/api/services/calendar/overrides").json()["overrides"][0]["day"] == "2025-03-05"
    twice = api.put("/api/services/calendar/overrides", json=overrides * 2)
    assert twice.status_code == 422 and twice.json()["detail"][0]["field"] == "day"


def test_the_dossier_view_shows_the_calendar_check(api: TestClient) -> None:
    api.post(
        "/api/services/imports",
        content=csv_bytes([dossier_row(due_at="2025-03-11T08:00:00+07:00")]),
        headers=CSV,
    )
    view = api.get(f"/api/services/dossiers/{CODE}").json()
    assert view["dossier"]["code"] == CODE
    assert [c["kind"] for c in view["check"]] == ["due_mismatch"]
    assert [f["kind"] for f in view["findings"]] == ["due_mismatch"]
    assert api.get("/api/services/dossiers/H57.S01-250303-0404").status_code == 404


def test_the_domain_indicators_are_listed_with_the_kernels(api: TestClient) -> None:
    api.post("/api/services/imports", content=csv_bytes(numbered(2)), headers=CSV)
    found = {i["id"]: i for i in api.get("/api/indicators").json()}
    assert found["services.online_dossier_share"]["value"] == 100.0
    assert found["services.online_dossier_share"]["status"] == "ok"
    assert found["services.index766"]["value"] is not None
