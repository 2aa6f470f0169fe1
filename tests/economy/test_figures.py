"""Figures through the API: the published 2021 figures, revisions kept with their history, targets."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.core.access.schema import audit_log
from cityops.core.kernel import Kernel
from cityops.economy import figures


def figure(**fields: Any) -> dict[str, Any]:
    return {"series": "exports", "period": "2026-01", "source": "Cục Thống kê (test)", **fields}


def test_the_published_2021_figures_are_shown_as_published(client: TestClient) -> None:
    rows = client.get("/api/economy/overview", params={"year": 2021, "through": 9, "lang": "en"}).json()
    by_code = {row["series"]["code"]: row for row in rows}
    expected = {"iip": 2.93, "retail": 1.9, "exports": 26.7, "imports": 34.0}
    for code, change in expected.items():
        assert by_code[code]["period_label"] == "9 months of 2021"
        assert by_code[code]["change_published_pct"] == change
        assert by_code[code]["change_pct"] == change
        assert by_code[code]["simulated"] is False
        assert "Bình Dương" in by_code[code]["source"]
    assert (by_code["fdi_attracted"]["value"], by_code["fdi_attracted"]["qualifier"]) == (1500.0, "over")
    october = client.get("/api/economy/overview", params={"year": 2021, "through": 10}).json()
    firms = next(row for row in october if row["series"]["code"] == "firms_operating")
    assert (firms["value"], firms["qualifier"], firms["period_label"]) == (85.0, "about", "Tháng 10/2021")


def test_a_revision_never_silently_replaces_a_published_figure(client: TestClient, kernel: Kernel) -> None:
    first = client.post("/api/economy/figures", json={"figures": [figure(value=2500.0)]})
    assert first.status_code == 201, first.text
    assert first.json()["stored"] == 1
    again = client.post("/api/economy/figures", json={"figures": [figure(value=2500.0)]})
    assert again.json() == {"figures": 1, "stored": 0, "revised": 0, "unchanged": 1}

    refused = client.post("/api/economy/figures", json={"figures": [figure(value=2610.0)]})
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert "already published as value 2500" in problem["reason"]
    assert "revise=true" in problem["reason"]

    revised = client.post(
        "/api/economy/figures",
        json={"figures": [figure(value=2610.0, note="số liệu chính thức")], "revise": True},
    )
    assert revised.json()["revised"] == 1
    history = client.get("/api/economy/series/exports/history", params={"period": "Tháng 1/2026"}).json()
    assert [(h["revision"], h["value"]) for h in history] == [(0, 2500.0), (1, 2610.0)]
    assert history[1]["note"] == "số liệu chính thức"
    in_force = client.get("/api/economy/series/exports").json()["figures"]
    assert [f["value"] for f in in_force if f["period"] == "2026-01"] == [2610.0]
    with kernel.engine.connect() as conn:
        entries = conn.execute(
            select(audit_log.c.action, audit_log.c.object).where(audit_log.c.action == "economy_value.revise")
        ).all()
    assert [tuple(e) for e in entries] == [("economy_value.revise", "economy_value:exports:2026-01")]


def test_one_bad_figure_stores_none(client: TestClient) -> None:
    response = client.post(
        "/api/economy/figures",
        json={
            "figures": [
                figure(value=100.0),
                figure(series="nope", value=1.0),
                figure(period="2026-13", value=1.0),
                figure(unit="bn_vnd", period="2026-02", value=1.0),
                figure(value=5.0),
            ]
        },
    )
    assert response.status_code == 422
    reasons = {(p["row"], p["column"]): p["reason"] for p in response.json()["detail"]}
    assert "unknown series 'nope'" in reasons[(1, "series")]
    assert "out of range" in reasons[(2, "period")]
    assert "not the unit of 'exports'" in reasons[(3, "unit")]
    assert "already at figures[0]" in reasons[(4, "period")]
    figures = client.get("/api/economy/series/exports").json()["figures"]
    assert [f["period"] for f in figures] == ["2021-01..09"]  # the published one only


def test_year_on_year_and_target_gap(client: TestClient) -> None:
    months = [
        figure(period=f"{year}-{month:02d}", value=base + month, simulated=True)
        for year, base in ((2025, 100.0), (2026, 120.0))
        for month in range(1, 4)
    ]
    assert client.post("/api/economy/figures", json={"figures": months}).status_code == 201
    target = {"series_code": "exports", "year": 2026, "kind": "value", "target": 1500.0, "source": "kế hoạch"}
    assert client.put("/api/economy/targets", json=[target]).status_code == 200
    rows = client.get("/api/economy/overview", params={"year": 2026}).json()
    exports = next(row for row in rows if row["series"]["code"] == "exports")
    this_year, last_year = 3 * 120 + 6, 3 * 100 + 6
    assert exports["period"] == "2026-01..03"
    assert exports["value"] == this_year and exports["summed_from_months"] is True
    assert exports["last_year"] == last_year
    assert abs(exports["change_pct"] - (this_year / last_year - 1) * 100) < 1e-9
    assert exports["simulated"] is True
    assert exports["target"]["gap"] == 1500.0 - this_year
    assert abs(exports["target"]["achieved_pct"] - 100 * this_year / 1500.0) < 1e-9


def test_an_operator_defines_a_series(client: TestClient) -> None:
    body = {
        "code": "tourism_revenue",
        "title": {"vi": "Doanh thu du lịch lữ hành"},
        "unit": "bn_vnd",
        "source": "Sở Văn hóa, Thể thao và Du lịch",
        "additive": True,
    }
    assert client.post("/api/economy/series", json=body).status_code == 201
    assert client.post("/api/economy/series", json=body).status_code == 409
    listed = {s["code"]: s for s in client.get("/api/economy/series", params={"lang": "ja"}).json()}
    assert listed["tourism_revenue"]["title"] == "Doanh thu du lịch lữ hành"
    assert listed["tourism_revenue"]["unit_title"] == "十億ドン"
    elsewhere = client.post("/api/economy/series", json=body | {"code": "tourism_x", "area_code": "legacy:0"})
    assert elsewhere.status_code == 422 and "unknown area" in elsewhere.text
    bad = client.post("/api/economy/series", json=body | {"code": "Bad Code", "unit": "furlongs"})
    assert bad.status_code == 422
    assert {tuple(e["loc"][-1:]) for e in bad.json()["detail"]} == {("code",), ("unit",)}


def test_a_figure_stored_meanwhile_is_a_conflict_not_a_server_error(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.post("/api/economy/figures", json={"figures": [figure(value=1.0)]}).status_code == 201
    # As if another request stored the same period between this one's read and its write.
    monkeypatch.setattr(figures, "in_force", lambda _conn, _keys: {})
    response = client.post("/api/economy/figures", json={"figures": [figure(value=2.0)], "revise": True})
    assert response.status_code == 409
    monkeypatch.undo()
    history = client.get("/api/economy/series/exports/history", params={"period": "2026-01"}).json()
    assert [h["value"] for h in history] == [1.0]
