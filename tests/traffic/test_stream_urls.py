"""Camera stream URLs: only rtsp, rtsps, http and https; private camera networks always; nothing on this
machine or its link-local network — host names resolved — unless the installation allows local targets
(`outbound_private_allowed`), and the cloud metadata address never; a password anywhere in the URL (user
part or query) never reaches operators or the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityops.traffic.video.sources import redact

CAMERA: dict[str, Any] = {"name": "Camera cổng", "location": {"type": "Point", "coordinates": [106.67, 11.0]}}


@pytest.fixture(autouse=True)
def local_streams() -> None:
    """Here the installation's default: no local targets (the other traffic tests allow them)."""


def put(client: TestClient, url: str) -> Any:
    return client.put("/api/traffic/cameras/url-01", json={**CAMERA, "streamURL": url})


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "rtmp://10.0.0.5/live",
        "gopher://10.0.0.5/",
        "rtsp://127.0.0.1:554/live",
        "http://localhost/snapshot.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "rtsp://[::1]/live",
        "rtsp://[::ffff:127.0.0.1]/live",
        "http://0.0.0.0:8080/",
        "rtsp://[fe80::1]/live",
        "rtsp://10.0.0.5:notaport/live",
        # Host names the resolver turns into loopback or the metadata address.
        "http://2852039166/latest/meta-data/",
        "rtsp://0x7f000001:554/live",
        "rtsp://127.1/live",
        "http://cam.localhost/",
    ],
)
def test_refused_stream_urls(client: TestClient, url: str) -> None:
    answer = put(client, url)
    assert answer.status_code == 422, (url, answer.text)
    (error,) = answer.json()["detail"]
    assert error["field"] == "streamURL", error


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://10.0.0.5:554/live",
        "rtsps://cam.example.vn/a",
        "https://192.168.1.20/video.mjpg",
        "rtsp://172.20.0.7/live",
    ],
)
def test_camera_networks_are_allowed(client: TestClient, url: str) -> None:
    assert put(client, url).status_code == 200


def test_the_installations_setting_allows_local_streams(client: TestClient, app: FastAPI) -> None:
    app.state.settings = app.state.settings.model_copy(update={"outbound_private_allowed": True})
    assert put(client, "rtsp://127.0.0.1:8554/bench").status_code == 200
    assert put(client, "rtsp://localhost:8554/bench").status_code == 200
    assert put(client, "file:/srv/videos/bench.mp4").status_code == 200
    for metadata in ("http://169.254.169.254/latest/meta-data/", "http://2852039166/"):
        answer = put(client, metadata)
        assert answer.status_code == 422 and "metadata" in answer.json()["detail"][0]["msg"]


def test_passwords_anywhere_in_the_url_are_hidden_from_operators_and_the_audit_log(
    client: TestClient,
) -> None:
    url = (
        "http://admin:hunter2pw@10.0.0.9/cgi-bin/snapshot.cgi?channel=1&pwd=s3cr3tA&token=t0kenB&apiKey=k3yC"
    )
    assert put(client, url).status_code == 200
    shown = client.get("/api/traffic/cameras/url-01").json()["streamURL"]
    assert shown == "http://admin:***@10.0.0.9/cgi-bin/snapshot.cgi?channel=1&pwd=***&token=***&apiKey=***"
    log = client.get("/api/audit", params={"limit": 1000}).text
    for secret in ("hunter2pw", "s3cr3tA", "t0kenB", "k3yC"):
        assert secret not in log and secret not in shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://u:p@h/x?password=a&Passcode=b&q=1", "rtsp://u:***@h/x?password=***&Passcode=***&q=1"),
        ("https://h/x?secret=a&sig=b&x-auth=c", "https://h/x?secret=***&sig=***&x-auth=***"),
        ("rtsp://h/live?channel=2", "rtsp://h/live?channel=2"),
    ],
)
def test_redact(url: str, expected: str) -> None:
    assert redact(url) == expected
