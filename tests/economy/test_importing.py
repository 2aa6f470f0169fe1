"""Importing a statistics office's monthly table (CSV, XLSX): all or nothing, every problem named by
row, column and reason."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from cityops.economy.importing import parse_number

HEADER = [
    "Mã chỉ tiêu",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Tháng 8/2026",
    "Tháng 9/2026",
    "9 tháng năm 2026 (% cùng kỳ)",
]
GOOD = [
    ["exports", "Kim ngạch xuất khẩu", "triệu USD", "2 650,5", "2700", "12,4"],
    ["retail", "Tổng mức bán lẻ", "tỷ đồng", "20100", "", "-1.5"],
]


def csv_bytes(rows: list[list[str]], delimiter: str = ",") -> bytes:
    return "\n".join(delimiter.join(f'"{c}"' for c in row) for row in rows).encode("utf-8-sig")


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def post(client: TestClient, body: bytes, format: str, revise: bool = False) -> dict[str, object]:
    response = client.post(
        "/api/economy/imports",
        params={"format": format, "source": "Cục Thống kê, báo cáo tháng 9/2026", "revise": revise},
        content=body,
    )
    return {"status": response.status_code, **response.json()}


def stored(client: TestClient, code: str) -> dict[str, tuple[float | None, float | None]]:
    figures = client.get(f"/api/economy/series/{code}").json()["figures"]
    return {f["period"]: (f["value"], f["change_pct"]) for f in figures if f["period"].startswith("2026")}


def test_a_csv_table_is_imported(client: TestClient) -> None:
    result = post(client, csv_bytes([HEADER, *GOOD], delimiter=";"), "csv")
    assert result["status"] == 201, result
    assert result["stored"] == 5
    assert stored(client, "exports") == {
        "2026-08": (2650.5, None),
        "2026-09": (2700.0, None),
        "2026-01..09": (None, 12.4),
    }
    assert stored(client, "retail") == {"2026-08": (20100.0, None), "2026-01..09": (None, -1.5)}
    assert post(client, csv_bytes([HEADER, *GOOD]), "csv")["unchanged"] == 5
    imports = client.get("/api/economy/imports").json()
    assert [(i["stored"], i["unchanged"]) for i in imports] == [(0, 5), (5, 0)]


def test_an_xlsx_table_is_imported(client: TestClient) -> None:
    rows: list[list[object]] = [HEADER, ["exports", "Xuất khẩu", "mn USD", 2650.5, 2700, 12.4]]
    result = post(client, xlsx_bytes(rows), "xlsx")
    assert result["status"] == 201, result
    assert stored(client, "exports")["2026-09"] == (2700.0, None)


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_a_malformed_file_is_imported_not_at_all(client: TestClient, format: str) -> None:
    header = [*HEADER, "Tháng 13/2026", "Tháng 8/2026"]
    rows = [
        header,
        [*GOOD[0], "", ""],
        ["gdp_magic", "?", "%", "1", "", "", "", ""],
        ["retail", "Bán lẻ", "triệu USD", "1", "", "", "", ""],
        ["exports", "again", "triệu USD", "1", "", "", "", ""],
        ["imports", "Nhập khẩu", "triệu USD", "nhiều", "", "", "", ""],
    ]
    body = csv_bytes(rows) if format == "csv" else xlsx_bytes(rows)  # type: ignore[arg-type]
    result = post(client, body, format)
    assert result["status"] == 422
    problems = {(p["row"], p["column"]): p["reason"] for p in result["detail"]}  # type: ignore[attr-defined]
    assert "out of range" in problems[(1, "G (Tháng 13/2026)")]
    assert "already in column D (Tháng 8/2026)" in problems[(1, "H (Tháng 8/2026)")]
    assert len(problems) == 2  # header problems stop the reading of rows
    body = csv_bytes([r[:6] for r in rows]) if format == "csv" else xlsx_bytes([r[:6] for r in rows])  # type: ignore[arg-type]
    result = post(client, body, format)
    problems = {(p["row"], p["column"]): p["reason"] for p in result["detail"]}  # type: ignore[attr-defined]
    assert problems == {
        (3, "A (Mã chỉ tiêu)"): "unknown series 'gdp_magic'",
        (4, "C (Đơn vị tính)"): "unit 'triệu USD' is not the unit of 'retail' (bn_vnd)",
        (5, "A (Mã chỉ tiêu)"): "series 'exports' is already on row 2",
        (6, "D (Tháng 8/2026)"): "'nhiều' is not a number",
    }
    for code in ("exports", "retail", "imports"):
        assert stored(client, code) == {}
    assert client.get("/api/economy/imports").json() == []


def test_a_changed_figure_in_a_file_is_a_revision_only_when_declared(client: TestClient) -> None:
    assert post(client, csv_bytes([HEADER, *GOOD]), "csv")["status"] == 201
    changed = [HEADER, [*GOOD[0][:3], "2 651", *GOOD[0][4:]], GOOD[1]]
    refused = post(client, csv_bytes(changed), "csv")
    assert refused["status"] == 422
    [problem] = refused["detail"]  # type: ignore[misc]
    assert (problem["row"], problem["column"]) == (2, "D (Tháng 8/2026)")
    assert "already published as value 2650.5" in problem["reason"]
    accepted = post(client, csv_bytes(changed), "csv", revise=True)
    assert (accepted["revised"], accepted["unchanged"]) == (1, 4)
    history = client.get("/api/economy/series/exports/history", params={"period": "2026-08"}).json()
    assert [h["value"] for h in history] == [2650.5, 2651.0]


def test_not_a_table(client: TestClient) -> None:
    result = post(client, b"\xff\xfe garbage", "csv")
    assert result["status"] == 422
    assert "not UTF-8" in result["detail"][0]["reason"]  # type: ignore[index]
    assert post(client, b"PK not a zip", "xlsx")["status"] == 422
    no_series = post(client, csv_bytes([["Chỉ tiêu", "2026-01"], ["x", "1"]]), "csv")
    assert "no series column" in no_series["detail"][0]["reason"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23 100", 23100.0),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("26,7", 26.7),
        ("-0.5", -0.5),
        ("2.7", 2.7),
    ],
)
def test_numbers_as_offices_write_them(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"), [("2.700", "ambiguous"), ("2,700", "ambiguous"), ("x1", "not a number")]
)
def test_numbers_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_number(text)
