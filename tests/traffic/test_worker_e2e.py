"""End to end: Debian's ffmpeg pushes the synthetic video over RTSP on loopback to `cityops traffic run`
(in-process), which counts and sends to a live server with a device token; the counts arrive as
observations. Stopping the push raises the camera-down alert; pushing again clears it."""

from __future__ import annotations

import math
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cityops.core.access.tokens import issue_token
from cityops.core.kernel import Kernel
from cityops.core.schema import observations
from cityops.traffic.demo.synthetic import SyntheticScene, size_bands
from cityops.traffic.workers.runner import run_worker
from cityops.traffic.workers.worker import WorkerOptions

from ..conftest import free_port, wait_for

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="apt-get install ffmpeg")
CAMERA = "e2e-01"
URN = f"urn:ngsi-ld:Camera:{CAMERA}"
CLASSES = ("motorbike", "car", "bus", "truck", "bicycle", "person", "vehicle")


class Pusher:
    """ffmpeg pushing the video in real time (ANNOUNCE/RECORD over TCP) to the worker, which listens."""

    def __init__(self, video: Path, url: str) -> None:
        self.command = ["ffmpeg", "-loglevel", "error", "-re", "-i", str(video), "-c", "copy"]
        self.command += ["-f", "rtsp", "-rtsp_transport", "tcp", url]
        self.process: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()

    def start(self) -> None:
        self._stopped.clear()

        def keep_trying() -> None:  # ffmpeg gives up at once while nobody listens yet: try again
            while not self._stopped.is_set():
                process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                self.process = process
                try:
                    process.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    return

        threading.Thread(target=keep_trying, daemon=True).start()

    def kill(self) -> None:
        self._stopped.set()
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def pusher(scene_video: Path) -> Iterator[Callable[[str], Pusher]]:
    made: list[Pusher] = []

    def make(url: str) -> Pusher:
        made.append(Pusher(scene_video, url))
        return made[-1]

    yield make
    for each in made:
        each.kill()


@pytest.fixture(autouse=True)
def local_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """The camera pushes to a loopback RTSP port: an admin's choice on a test bench."""
    monkeypatch.setenv("CITYOPS_OUTBOUND_PRIVATE_ALLOWED", "true")


def test_rtsp_push_to_counts_and_camera_down_alert(
    live_server: str,
    auth_headers: dict[str, str],
    kernel: Kernel,
    database_url: str,
    scene: SyntheticScene,
    pusher: Callable[[str], Pusher],
) -> None:
    admin = httpx.Client(base_url=live_server, headers=auth_headers, timeout=10)
    url = f"rtsp://127.0.0.1:{free_port()}/live"
    start, end = scene.counting_line()
    camera = {
        "name": "Camera thử nghiệm đầu cuối",
        "streamURL": url,
        "location": {"type": "Point", "coordinates": [106.6603, 10.9925]},
        "analytics": {
            "frame": {"width": scene.width, "height": scene.height},
            "sample_fps": 25,
            "interval_s": 3,
            "detector": "motion",
            "listen": True,
            "lines": [{"id": "l1", "start": start, "end": end}],
            "size_bands": [
                {"max_area": None if math.isinf(b.max_area) else b.max_area, "class": b.traffic_class.value}
                for b in size_bands()
            ],
        },
    }
    assert admin.put(f"/api/traffic/cameras/{CAMERA}", json=camera).status_code == 200
    rule = {"template": "traffic.camera_down", "id": "e2e-camera-down", "entity": URN}
    assert admin.post("/api/rules", json=rule).status_code in (200, 201)
    with kernel.engine.begin() as conn:
        token = issue_token(conn, "e2e worker", "device", None, actor="tests").secret
    options = WorkerOptions(
        server=live_server,
        token=token,
        database_url=database_url,
        camera_ids=(CAMERA,),
        snapshot_every_s=1.0,
        heartbeat_s=2.0,
        open_timeout_s=30.0,
        read_timeout_s=2.0,
        backoff_max_s=0.5,
        allow_local=True,  # the stream is on this machine: the installation's outbound_private_allowed
    )
    stop = threading.Event()
    lines: list[str] = []
    worker = threading.Thread(target=run_worker, args=(options, stop, lines.append), daemon=True)
    worker.start()
    push = pusher(url)
    try:
        push.start()

        def counted() -> dict[str, float]:
            metrics = [("metric", f"count.{name}") for name in CLASSES]
            series = admin.get("/api/series", params=[("entity", URN), *metrics]).json()["series"]
            return {m.removeprefix("count."): sum(b["sum"] for b in s) for m, s in series.items()}

        # Three intervals (9 s of video) have been counted and sent as observations.
        wait_for("counts", lambda: admin.get(f"/api/traffic/cameras/{CAMERA}").json()["state"] == "up", 20)
        wait_for("three intervals", lambda: sum(counted().values()) >= 10, 25)
        latest = admin.get(f"/api/traffic/cameras/{CAMERA}").json()["latest_flow"]
        counts = counted()
        # The video time the counted intervals cover: from the connection (state 1) to the last interval's end.
        with kernel.engine.connect() as conn:
            up_ms = conn.execute(
                select(func.min(observations.c.ts_ms))
                .where(observations.c.entity_id == kernel.registry.resolve(URN).id)  # type: ignore[union-attr]
                .where(observations.c.metric_id == kernel.registry.metric_id("Camera", "state"))
            ).scalar_one()
        covered_s = (latest["ts"] - up_ms) / 1000
        if sum(counted().values()) == sum(counts.values()):  # no newer interval arrived meanwhile
            low = sum(1 for v in scene.vehicles if scene.crossing_time(v) < covered_s - 1.0)
            high = sum(1 for v in scene.vehicles if scene.crossing_time(v) < covered_s + 1.0)
            assert low - 2 <= sum(counts.values()) <= high + 2, (counts, low, high, covered_s)
        truth = {kind.value: n for (kind, _), n in scene.ground_truth().items()}
        assert {k for k, v in counts.items() if v} <= set(truth)  # only classes the video has
        assert counts["vehicle"] == 0  # every blob got a class from the size bands
        picture = admin.get(f"/api/traffic/cameras/{CAMERA}/snapshot.jpg")
        assert picture.status_code == 200 and picture.content[:3] == b"\xff\xd8\xff"
        overlay = admin.get(f"/api/traffic/cameras/{CAMERA}/overlay").json()
        assert (overlay["width"], overlay["height"]) == (scene.width, scene.height)
        assert overlay["lines"][0]["id"] == "l1"

        # The stream dies: the camera is down and the alert is raised.
        push.kill()

        def open_alerts() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = admin.get("/api/alerts", params={"rule": "e2e-camera-down"}).json()[
                "items"
            ]
            return items

        wait_for("the camera-down alert", open_alerts, 20)
        assert admin.get(f"/api/traffic/cameras/{CAMERA}").json()["state"] == "down"

        # It comes back: the alert clears.
        push = pusher(url)
        push.start()
        wait_for("the alert to clear", lambda: not open_alerts(), 30)
        assert admin.get(f"/api/traffic/cameras/{CAMERA}").json()["state"] == "up"
    finally:
        stop.set()
        push.kill()
        worker.join(timeout=15)
    assert any("e2e-01" in line for line in lines)  # the console status names the camera
