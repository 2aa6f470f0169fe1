"""Open data: the DCAT-AP catalogue, each dataset as CSV, GeoJSON and Parquet holding the same rows, for
anyone without signing in; periods checked; and nothing personal or secret gets out, whatever a dataset
declares or returns."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from cityops.core.opendata import REDACTED, Column, Dataset, OpenDataError, Period, personal_name, scrub

CAMERA = "urn:ngsi-ld:Camera:tdm-001"
SECRET = "S3cr3t-pw"
TOKEN = "Q9-stream-token"
STREAM = f"rtsp://viewer:{SECRET}@camera-tdm.example.vn:554/ch1?password={TOKEN}"


def anonymous(client: TestClient) -> TestClient:
    del client.headers["Authorization"]
    return client


def catalogue(client: TestClient) -> dict[str, Any]:
    answer = client.get("/api/opendata/catalog")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/ld+json"
    document: dict[str, Any] = answer.json()
    return document


def test_the_catalogue_lists_every_dataset_with_dcat_fields(client: TestClient) -> None:
    document = catalogue(anonymous(client))
    assert document["@type"] == "dcat:Catalog"
    datasets = {d["dct:identifier"]: d for d in document["dcat:dataset"]}
    assert {"register.camera", "daily.camera", "register.access_point", "alerts", "reports.requests"} <= set(
        datasets
    )
    cameras = datasets["register.camera"]
    assert cameras["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    assert cameras["dct:accrualPeriodicity"]["@id"].endswith("/UPDATE_CONT")
    assert datasets["daily.camera"]["dct:accrualPeriodicity"]["@id"].endswith("/DAILY")
    assert {v["@language"] for v in cameras["dct:title"]} == {"vi", "en", "ja"}
    assert cameras["dct:publisher"]["foaf:name"][0]["@value"]
    formats = [d["dcat:downloadURL"]["@id"].rsplit(".", 1)[1] for d in cameras["dcat:distribution"]]
    assert formats == ["csv", "geojson", "parquet"]
    assert [d["dcat:mediaType"] for d in datasets["daily.camera"]["dcat:distribution"]] == [
        "text/csv",
        "application/vnd.apache.parquet",
    ]
    assert cameras["cityops:simulated"] is False


def download(client: TestClient, dataset: str, suffix: str, **params: str) -> bytes:
    answer = client.get(f"/api/opendata/datasets/{dataset}.{suffix}", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith(f'attachment; filename="{dataset}_')
    return answer.content


def test_csv_geojson_and_parquet_hold_the_same_rows(client: TestClient) -> None:
    anonymous(client)
    rows = list(csv.DictReader(io.StringIO(download(client, "register.camera", "csv").decode())))
    assert CAMERA in [r["urn"] for r in rows]
    features = orjson.loads(download(client, "register.camera", "geojson"))["features"]
    table = pq.read_table(io.BytesIO(download(client, "register.camera", "parquet"))).to_pylist()
    assert len(rows) == len(features) == len(table) > 0
    for row, feature, record in zip(rows, features, table, strict=True):
        assert row["urn"] == feature["properties"]["urn"] == record["urn"]
        assert feature["geometry"]["coordinates"] == [pytest.approx(float(row["lon"])), float(row["lat"])]
        assert record["lon"] == pytest.approx(float(row["lon"]))
        assert row["updated"].endswith("+07:00")  # local time for the reader


def test_daily_figures_come_from_the_day_rollups(client: TestClient) -> None:
    points = [
        {"entity": CAMERA, "metric": "intensity", "time": f"2026-11-23T{h:02d}:30:00+07:00", "value": v}
        for h, v in ((0, 10), (12, 20), (23, 60))
    ]
    points.append({"entity": CAMERA, "metric": "intensity", "time": "2026-11-24T00:10:00+07:00", "value": 5})
    assert client.post("/api/ingest", json={"points": points}).status_code == 202
    anonymous(client)
    body = download(client, "daily.camera", "csv", since="2026-11-23", until="2026-11-24")
    rows = {(r["day"], r["metric"]): r for r in csv.DictReader(io.StringIO(body.decode()))}
    first = rows[("2026-11-23", "intensity")]
    assert (first["count"], float(first["mean"]), float(first["min"]), float(first["max"])) == (
        "3",
        30,
        10,
        60,
    )
    assert rows[("2026-11-24", "intensity")]["count"] == "1"
    only_first = download(client, "daily.camera", "csv", since="2026-11-23", until="2026-11-23")
    assert "2026-11-24" not in only_first.decode()


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/opendata/datasets/alerts.csv?since=2026-02-01&until=2026-01-01", 422, "since"),
        ("/api/opendata/datasets/alerts.csv?since=2024-01-01&until=2026-01-01", 422, "since"),
        ("/api/opendata/datasets/alerts.csv?since=2026-13-01", 422, None),
        ("/api/opendata/datasets/nothing.csv", 404, "dataset_id"),
        ("/api/opendata/datasets/alerts.xlsx", 422, None),
        ("/api/opendata/datasets/daily.camera.geojson", 404, "format"),
    ],
)
def test_bad_requests_are_refused_with_the_field(
    client: TestClient, path: str, status: int, field: str | None
) -> None:
    answer = anonymous(client).get(path)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert answer.json()["detail"]["field"] == field


def test_no_stream_credential_leaves_in_any_dataset(client: TestClient) -> None:
    camera = {
        "name": "Ngã tư Chợ Đình",
        "streamURL": STREAM,
        "location": {"type": "Point", "coordinates": [106.6760, 11.0050]},
    }
    assert client.put("/api/traffic/cameras/cam-od", json=camera).status_code == 200, "camera registered"
    anonymous(client)
    for dataset in catalogue(client)["dcat:dataset"]:
        for distribution in dataset["dcat:distribution"]:
            url = distribution["dcat:downloadURL"]["@id"]
            body = client.get(url.split("testserver", 1)[1]).content
            assert SECRET.encode() not in body and TOKEN.encode() not in body, url


def test_a_personal_column_cannot_be_declared() -> None:
    def rows(_conn: Any, _period: Period) -> list[dict[str, Any]]:
        return []

    for name in ("contact_phone", "contactEmail", "clientMac", "stream_url", "userName", "password"):
        with pytest.raises(OpenDataError, match="personal data"):
            Dataset("x.y", {}, {}, (Column(name, "string", {}),), rows, "daily")
    for name in ("description", "source_name", "zip_code", "shipping", "metric"):
        assert not personal_name(name)


def test_undeclared_keys_and_personal_values_are_filtered(client: TestClient) -> None:
    from cityops.core.opendata import public_rows

    def rows(_conn: Any, _period: Period) -> list[dict[str, Any]]:
        return [
            {
                "note": "Gọi anh Nam 0912 345 678 hoặc nam@example.vn; wifi AA:BB:CC:DD:EE:01",
                "contact_email": "nam@example.vn",  # not declared: never leaves
            }
        ]

    dataset = Dataset("x.y", {}, {}, (Column("note", "string", {}),), rows, "daily")
    out = list(public_rows(dataset, None, Period(date(2026, 1, 1), date(2026, 1, 1))))  # type: ignore[arg-type]
    assert out == [{"note": f"Gọi anh Nam {REDACTED} hoặc {REDACTED}; wifi {REDACTED}"}]


PHONES = st.builds(
    lambda prefix, digits, sep: prefix + sep.join([digits[:3], digits[3:6], digits[6:]]),
    st.sampled_from(["0", "+84", "84"]),
    st.text("0123456789", min_size=9, max_size=9),
    st.sampled_from(["", " ", ".", "-"]),
)
WORDS = st.text(st.sampled_from("abcdeghiklmnopqrstuvxyàáảãạăâđêôơư ,"), max_size=30)


@given(before=WORDS, phone=PHONES, after=WORDS)
def test_any_vietnamese_phone_number_in_a_text_is_redacted(before: str, phone: str, after: str) -> None:
    cleaned = scrub(f"{before} {phone} {after}")
    assert phone not in cleaned and REDACTED in cleaned


@given(text=WORDS)
def test_texts_without_personal_data_are_unchanged(text: str) -> None:
    assert scrub(text) == text
