"""The camera registry over HTTP: create and replace, analytics validated field by field, stream URLs
redacted and shown to admins and operators only, retiring, auditing; and the camera wall's snapshots."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.access.tokens import issue_token
from cityops.core.kernel import Kernel
from cityops.traffic.analytics.pipeline import CameraReport, _Camera
from cityops.traffic.snapshots import MAX_IMAGE_BYTES
from cityops.traffic.workers.worker import WorkerOptions, load_cameras

HeadersFor = Callable[[Role], dict[str, str]]
SECRET = "s3cr3t-pässword"
STREAM = f"rtsp://viewer:{SECRET}@10.0.0.7:554/Streaming/Channels/101"


@pytest.fixture
def headers_for(kernel: Kernel) -> HeadersFor:
    serial = count(1)

    def make(role: Role) -> dict[str, str]:
        name = f"{role.value.replace('_', '-')}-{next(serial)}"
        with kernel.engine.begin() as conn:
            if role is Role.DEVICE:
                issued = issue_token(conn, name, "device", None, actor="tests")
            else:
                create_user(
                    conn,
                    NewUser(name, role, agency_code="police" if role is Role.AGENCY_OFFICER else None),
                    "tests",
                )
                issued = issue_token(conn, "tests", "user", name, actor="tests")
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


def analytics(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "frame": {"width": 640, "height": 360},
        "sample_fps": 5,
        "interval_s": 30,
        "detector": "motion",
        "lines": [{"id": "l1", "start": [400, 286], "end": [400, 74], "zone": "road"}],
        "zones": [{"id": "road", "polygon": [[0, 74], [640, 74], [640, 286], [0, 286]], "max_queue": 6}],
        "calibration": {
            "pairs": [
                {"image": [100, 280], "world": [0, 0]},
                {"image": [540, 280], "world": [30, 0]},
                {"image": [500, 80], "world": [30, 14]},
                {"image": [140, 80], "world": [0, 14]},
                {"image": [320, 180], "world": [15, 7]},
            ]
        },
    }
    config.update(changes)
    return config


def camera(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Ngã tư Bình Dương – Mỹ Phước Tân Vạn",
        "streamURL": STREAM,
        "location": {"type": "Point", "coordinates": [106.6760, 11.0050]},
        "cameraOrientation": "Hướng Bắc",
        "cameraType": "FIXED",
        "analytics": analytics(),
    }
    body.update(changes)
    return body


def test_a_camera_is_created_located_and_listed_with_its_url_redacted(client: TestClient) -> None:
    response = client.put("/api/traffic/cameras/cam-01", json=camera())
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["urn"] == "urn:ngsi-ld:Camera:cam-01"
    assert created["area_code"] and created["area_code"].startswith("2025:")
    assert created["streamURL"] == "rtsp://viewer:***@10.0.0.7:554/Streaming/Channels/101"
    assert created["state"] == "unknown" and created["latest_flow"] is None
    assert created["analytics"]["lines"][0]["in_side"] == "left"
    listed = {c["id"]: c for c in client.get("/api/traffic/cameras").json()}
    assert listed["cam-01"]["name"] == "Ngã tư Bình Dương – Mỹ Phước Tân Vạn"
    assert "tdm-001" in listed  # the demo's cameras are cameras too
    for path in ("/api/traffic/cameras", "/api/traffic/cameras/cam-01", "/api/entities?type=Camera"):
        assert SECRET not in client.get(path).text


def test_replacing_a_camera_keeps_one_entity(client: TestClient, kernel: Kernel) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera())
    response = client.put("/api/traffic/cameras/cam-01", json=camera(name="Camera mới", streamURL=None))
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["streamURL"]) == ("Camera mới", None)
    ids = [c["id"] for c in client.get("/api/traffic/cameras").json()]
    assert ids.count("cam-01") == 1


@pytest.mark.parametrize("role", [Role.LEADER, Role.AGENCY_OFFICER])
def test_readers_other_than_operators_never_see_the_url(
    client: TestClient, headers_for: HeadersFor, role: Role
) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera())
    headers = headers_for(role)
    one = client.get("/api/traffic/cameras/cam-01", headers=headers)
    assert one.status_code == 200
    assert one.json()["streamURL"] is None
    assert "viewer" not in client.get("/api/traffic/cameras", headers=headers).text
    operator = client.get("/api/traffic/cameras/cam-01", headers=headers_for(Role.OPERATOR)).json()
    assert operator["streamURL"].startswith("rtsp://viewer:***@")


def errors_of(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["field"]: error["msg"] for error in response.json()["detail"]}


@pytest.mark.parametrize(
    ("changes", "field", "why"),
    [
        ({"lines": [{"id": "l1", "start": [700, 10], "end": [400, 74]}]}, "lines.0.start", "outside"),
        ({"lines": [{"id": "l1", "start": [10, 10], "end": [10.5, 10]}]}, "lines.0.end", "2 pixels"),
        (
            {"zones": [{"id": "z", "polygon": [[0, 0], [100, 100], [100, 0], [0, 100]]}], "lines": []},
            "zones.0.polygon",
            "Self-intersection",
        ),
        (
            {"zones": [{"id": "z", "polygon": [[0, 0], [0.5, 0], [0, 0.5]]}], "lines": []},
            "zones.0.polygon",
            "no area",
        ),
        (
            {"calibration": {"pairs": [{"image": [1, 1], "world": [0, 0]}] * 3}},
            "calibration.pairs",
            "at least 4",
        ),
        (
            {
                "calibration": {
                    "pairs": [{"image": [10 * i, 10 * i], "world": [i, i * 2 + 1]} for i in range(1, 6)]
                }
            },
            "calibration.pairs",
            "one line",
        ),
        (
            {"lines": [{"id": "l1", "start": [1, 1], "end": [50, 50], "zone": "nowhere"}]},
            "lines.0.zone",
            "nowhere",
        ),
        ({"detector": "yolo"}, "detector", "onnx"),
        ({"tracking": {"lost_track_s": 0}}, "tracking.lost_track_s", "greater than 0"),
        ({"tracking": {"min_hits": 31}}, "tracking.min_hits", "less than or equal to 30"),
        ({"tracking": {"match_buffer": "wide"}}, "tracking.match_buffer", "number"),
        ({"tracking": {"lost_track": 3}}, "tracking.lost_track", "not permitted"),
        (
            {"lines": [{"id": "l1", "start": [1, 1], "end": [50, 50], "stitch_s": -1}]},
            "lines.0.stitch_s",
            "greater than or equal to 0",
        ),
        (
            {"zones": [{"id": "z", "polygon": [[0, 0], [9, 0], [9, 9]], "wrong_way_min_s": 61}]},
            "zones.0.wrong_way_min_s",
            "less than or equal to 60",
        ),
        ({"stopped_vehicle": {"moving_s": -0.5}}, "stopped_vehicle.moving_s", "greater than or equal to 0"),
        ({"frame": {"width": 0, "height": 360}}, "frame.width", "greater"),
    ],
)
def test_bad_analytics_get_422_naming_the_field(
    client: TestClient, changes: dict[str, Any], field: str, why: str
) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera(analytics=None))
    errors = errors_of(client.put("/api/traffic/cameras/cam-01/analytics", json=analytics(**changes)))
    assert field in errors and why in errors[field], errors
    assert client.get("/api/traffic/cameras/cam-01").json()["analytics"] is None  # nothing stored


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"streamURL": "javascript:alert(1)"}, "streamURL"),
        ({"name": "   "}, "name"),
        ({"location": {"type": "Point", "coordinates": [500, 11]}}, "location"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_cameras_get_422_naming_the_field(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    assert field in errors_of(client.put("/api/traffic/cameras/cam-01", json=camera(**changes)))


def test_bad_camera_ids_get_422(client: TestClient) -> None:
    for bad in ("-cam", "a" * 65, "cam%20one"):
        assert "camera_id" in errors_of(client.put(f"/api/traffic/cameras/{bad}", json=camera()))


TUNED = {
    "tracking": {"lost_track_s": 4.0, "min_hits": 2, "match_buffer": 0.8},
    "lines": [
        {"id": "l1", "start": [400, 286], "end": [400, 74], "zone": "road", "stitch_s": 1.5, "stitch_px": 30}
    ],
    "zones": [
        {
            "id": "road",
            "polygon": [[0, 74], [640, 74], [640, 286], [0, 286]],
            "allowed_direction": [[10, 180], [600, 180]],
            "wrong_way_min_s": 2.5,
            "wrong_way_min_travel": 8,
        }
    ],
    "stopped_vehicle": {"min_stopped_s": 20, "tolerance": 1.0, "moving_s": 2.0, "hidden_s": 15},
}


def test_tracker_settings_are_read_written_and_audited_per_camera(client: TestClient) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera())
    client.put("/api/traffic/cameras/cam-02", json=camera())
    defaults = client.get("/api/traffic/cameras/cam-01").json()["analytics"]
    assert defaults["tracking"] == {"lost_track_s": 2.5, "min_hits": 3, "match_buffer": 0.5}
    answer = client.put("/api/traffic/cameras/cam-01/analytics", json=analytics(**TUNED))
    assert answer.status_code == 200, answer.text
    stored = client.get("/api/traffic/cameras/cam-01").json()["analytics"]
    assert stored["tracking"] == TUNED["tracking"]
    assert stored["lines"][0]["stitch_s"] == 1.5 and stored["zones"][0]["wrong_way_min_s"] == 2.5
    assert stored["stopped_vehicle"]["hidden_s"] == 15
    other = client.get("/api/traffic/cameras/cam-02").json()["analytics"]
    assert other["tracking"]["lost_track_s"] == 2.5  # per camera
    entries = client.get("/api/audit", params={"object": "camera:cam-01"}).json()
    items = entries["items"] if isinstance(entries, dict) else entries
    change = next(entry for entry in items if entry["action"] == "camera.analytics")
    assert "lost_track_s" in str(change) and "4.0" in str(change) and "2.5" in str(change)


def test_the_worker_runs_a_camera_with_its_tracker_settings(client: TestClient, kernel: Kernel) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera(analytics=analytics(**TUNED)))
    client.put("/api/traffic/cameras/cam-02", json=camera())
    options = WorkerOptions(server="http://127.0.0.1:9", token="unused", database_url="unused")
    loaded, skipped = load_cameras(kernel.engine, options)
    assert skipped == []
    by_id = {worker_camera.camera_id: worker_camera for worker_camera in loaded}
    tuned, plain = by_id["cam-01"].config, by_id["cam-02"].config
    assert (tuned.lost_track_s, tuned.min_hits, tuned.match_buffer) == (4.0, 2, 0.8)
    assert (plain.lost_track_s, plain.min_hits, plain.match_buffer) == (2.5, 3, 0.5)
    assert (tuned.lines[0].stitch_s, tuned.lines[0].stitch_px) == (1.5, 30)
    assert (tuned.wrong_way[0].min_duration_s, tuned.wrong_way[0].min_travel) == (2.5, 8)
    assert tuned.stopped is not None and (tuned.stopped.moving_s, tuned.stopped.hidden_s) == (2.0, 15)
    # The pipeline's per-camera work builds its tracker from them (the detector is not needed for that).
    tracker = _Camera(tuned, None, CameraReport("cam-01")).analysis.tracker
    assert (tracker.lost_track_s, tracker.match_buffer) == (4.0, 0.8)


def test_changes_are_audited_without_the_password(client: TestClient) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera())
    client.put("/api/traffic/cameras/cam-01/analytics", json=analytics(interval_s=10))
    assert client.delete("/api/traffic/cameras/cam-01").status_code == 204
    entries = client.get("/api/audit", params={"object": "camera:cam-01"}).json()
    items = entries["items"] if isinstance(entries, dict) else entries
    actions = [entry["action"] for entry in items]
    assert actions == ["camera.delete", "camera.analytics", "camera.create"]
    assert all(entry["actor"] == "test-admin" for entry in items)
    assert SECRET not in str(items)
    assert "viewer:***@" in str(items)


def test_a_retired_camera_leaves_the_registry_and_comes_back_when_put(client: TestClient) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera())
    assert client.delete("/api/traffic/cameras/cam-01").status_code == 204
    assert client.get("/api/traffic/cameras/cam-01").status_code == 404
    assert "cam-01" not in [c["id"] for c in client.get("/api/traffic/cameras").json()]
    assert client.delete("/api/traffic/cameras/cam-01").status_code == 404
    assert client.put("/api/traffic/cameras/cam-01", json=camera()).status_code == 200
    assert client.get("/api/traffic/cameras/cam-01").json()["state"] == "unknown"


def test_state_and_latest_flow_come_from_the_newest_points(client: TestClient, kernel: Kernel) -> None:
    client.put("/api/traffic/cameras/cam-01", json=camera())
    now = kernel.now_ms()
    points = [
        {"entity": "urn:ngsi-ld:Camera:cam-01", "metric": metric, "time": now, "value": value}
        for metric, value in (("state", 0), ("intensity", 12.5), ("count.car", 4), ("count.motorbike", 21))
    ]
    assert client.post("/api/ingest", json={"points": points}).status_code == 202
    found = client.get("/api/traffic/cameras/cam-01").json()
    assert found["state"] == "down"
    assert found["latest_flow"] == {"intensity": 12.5, "counts": {"car": 4, "motorbike": 21}, "ts": now}


# --- snapshots -------------------------------------------------------------------------------------
def jpeg(width: int = 64, height: int = 36) -> bytes:
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (0, 0, 255)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


OVERLAY = {
    "ts": 1_764_000_000_000,
    "width": 640,
    "height": 360,
    "lines": [{"id": "l1", "start": [400, 286], "end": [400, 74], "in_side": "right"}],
    "zones": [{"id": "road", "polygon": [[0, 74], [640, 74], [640, 286], [0, 286]]}],
    "boxes": [{"x1": 10, "y1": 20, "x2": 50, "y2": 40, "class": "car", "track": 7}],
    "counts": {"l1": {"car": {"in": 3, "out": 1}}},
}


def post_snapshot(
    client: TestClient, camera_id: str, image: bytes, overlay: Any, headers: dict[str, str] | None = None
) -> Any:
    import orjson

    files = {"image": ("frame.jpg", image, "image/jpeg"), "overlay": (None, orjson.dumps(overlay))}
    return client.post(f"/api/traffic/cameras/{camera_id}/snapshot", files=files, headers=headers or {})


def test_a_device_posts_a_snapshot_and_readers_get_it_back(
    client: TestClient, headers_for: HeadersFor
) -> None:
    image = jpeg()
    listed = {c["id"]: c for c in client.get("/api/traffic/cameras").json()}
    assert listed["tdm-001"]["snapshot_ms"] is None
    response = post_snapshot(client, "tdm-001", image, OVERLAY, headers_for(Role.DEVICE))
    assert response.status_code == 201, response.text
    listed = {c["id"]: c for c in client.get("/api/traffic/cameras").json()}
    assert isinstance(listed["tdm-001"]["snapshot_ms"], int)
    leader = headers_for(Role.LEADER)
    picture = client.get("/api/traffic/cameras/tdm-001/snapshot.jpg", headers=leader)
    assert (picture.status_code, picture.headers["content-type"], picture.content) == (
        200,
        "image/jpeg",
        image,
    )
    overlay = client.get("/api/traffic/cameras/tdm-001/overlay", headers=leader).json()
    assert {key: overlay[key] for key in OVERLAY} == OVERLAY
    newer = post_snapshot(client, "tdm-001", jpeg(32, 18), {**OVERLAY, "ts": OVERLAY["ts"] + 5000})
    assert newer.status_code == 201
    assert client.get("/api/traffic/cameras/tdm-001/overlay").json()["ts"] == OVERLAY["ts"] + 5000


def test_snapshots_survive_a_restart_of_the_store(client: TestClient, kernel: Kernel) -> None:
    from cityops.traffic.router import snapshot_folder
    from cityops.traffic.snapshots import SnapshotStore

    image = jpeg()
    assert post_snapshot(client, "tdm-002", image, OVERLAY).status_code == 201
    reopened = SnapshotStore(snapshot_folder(kernel)).get("tdm-002")
    assert reopened is not None and reopened.jpeg == image and reopened.overlay["counts"] == OVERLAY["counts"]


@pytest.mark.parametrize(
    ("image", "overlay", "status", "field"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, OVERLAY, 415, "image"),
        (b"", OVERLAY, 422, "image"),
        (jpeg()[:-2] + b"xx", OVERLAY, 415, "image"),
        (b"\xff\xd8\xff" + b"0" * (MAX_IMAGE_BYTES + 10) + b"\xff\xd9", OVERLAY, 413, "image"),
        (jpeg(), {**OVERLAY, "width": "wide"}, 422, "overlay.width"),
        (jpeg(), {**OVERLAY, "boxes": [{"x1": 1, "y1": 2, "x2": 3}]}, 422, "overlay.boxes.0.y2"),
        (jpeg(), {**OVERLAY, "counts": {"l1": {"car": {"up": 1}}}}, 422, "overlay"),
        (jpeg(), {k: v for k, v in OVERLAY.items() if k != "ts"}, 422, "overlay.ts"),
    ],
)
def test_bad_snapshots_are_refused_naming_the_part(
    client: TestClient, image: bytes, overlay: Any, status: int, field: str
) -> None:
    response = post_snapshot(client, "tdm-001", image, overlay)
    assert response.status_code == status, response.text
    assert response.json()["detail"][0]["field"] == field
    assert client.get("/api/traffic/cameras/tdm-001/snapshot.jpg").status_code == 404


def test_snapshots_of_unknown_cameras_and_missing_parts(client: TestClient) -> None:
    assert post_snapshot(client, "nowhere", jpeg(), OVERLAY).status_code == 404
    assert client.get("/api/traffic/cameras/nowhere/overlay").status_code == 404
    missing = client.post(
        "/api/traffic/cameras/tdm-001/snapshot", files={"image": ("a.jpg", jpeg(), "image/jpeg")}
    )
    assert (missing.status_code, missing.json()["detail"][0]["field"]) == (422, "overlay")
    as_json = client.post("/api/traffic/cameras/tdm-001/snapshot", json=OVERLAY)
    assert as_json.status_code == 415


def test_a_retired_camera_takes_no_snapshots(client: TestClient, headers_for: HeadersFor) -> None:
    device = headers_for(Role.DEVICE)
    assert post_snapshot(client, "tdm-003", jpeg(), OVERLAY, device).status_code == 201
    assert client.delete("/api/traffic/cameras/tdm-003").status_code == 204
    late = post_snapshot(client, "tdm-003", jpeg(), OVERLAY, device)  # a worker that has not noticed yet
    assert late.status_code == 404, late.text
    assert late.json()["detail"] == {
        "code": "retired",
        "msg": "camera 'tdm-003' is retired: it takes no snapshots",
    }
    assert client.get("/api/traffic/cameras/tdm-003/snapshot.jpg").status_code == 404
