"""`cityops traffic run` beyond one camera: `--workers N` shares the cameras among processes (each camera
watched by exactly one), the worker follows the registry as cameras are added, changed and retired, and
stopping it while a camera is down returns at once."""

from __future__ import annotations

import math
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cityops.core.access.tokens import issue_token
from cityops.core.kernel import Kernel
from cityops.core.schema import observations
from cityops.traffic.demo.synthetic import SyntheticScene, size_bands
from cityops.traffic.workers.runner import run_processes, run_worker
from cityops.traffic.workers.worker import WorkerOptions, shard_of

from ..conftest import free_port, wait_for


def camera_body(url: str, scene: SyntheticScene, interval_s: float = 5) -> dict[str, Any]:
    start, end = scene.counting_line()
    return {
        "name": "Camera nhiều tiến trình",
        "streamURL": url,
        "location": {"type": "Point", "coordinates": [106.6603, 10.9925]},
        "analytics": {
            "frame": {"width": scene.width, "height": scene.height},
            "sample_fps": 10,
            "interval_s": interval_s,
            "detector": "motion",
            "lines": [{"id": "l1", "start": start, "end": end}],
            "size_bands": [
                {"max_area": None if math.isinf(b.max_area) else b.max_area, "class": b.traffic_class.value}
                for b in size_bands()
            ],
        },
    }


def device_token(kernel: Kernel) -> str:
    with kernel.engine.begin() as conn:
        return issue_token(conn, "worker tests", "device", None, actor="tests").secret


def observation_count(kernel: Kernel, camera_id: str) -> int:
    ref = kernel.registry.resolve(f"urn:ngsi-ld:Camera:{camera_id}")
    assert ref is not None
    with kernel.engine.connect() as conn:
        count: int = conn.execute(
            select(func.count()).select_from(observations).where(observations.c.entity_id == ref.id)
        ).scalar_one()
        return count


def test_two_worker_processes_share_two_cameras(
    live_server: str,
    auth_headers: dict[str, str],
    kernel: Kernel,
    database_url: str,
    scene: SyntheticScene,
    scene_video: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Two ids that the hash gives to different processes, each watching the synthetic video file.
    first = next(f"mp-{n:02d}" for n in range(100) if shard_of(f"mp-{n:02d}", 2) == 0)
    second = next(f"mp-{n:02d}" for n in range(100) if shard_of(f"mp-{n:02d}", 2) == 1)
    admin = httpx.Client(base_url=live_server, headers=auth_headers, timeout=10)
    for camera_id in (first, second):
        put = admin.put(f"/api/traffic/cameras/{camera_id}", json=camera_body(f"file:{scene_video}", scene))
        assert put.status_code == 200, put.text
    options = WorkerOptions(
        server=live_server,
        token=device_token(kernel),
        database_url=database_url,
        camera_ids=(first, second),
        snapshot_every_s=1.0,
    )
    plan: list[str] = []
    parent = threading.Thread(target=run_processes, args=(options, 2, plan.append), daemon=True)
    parent.start()
    parent.join(timeout=60)  # the files end, so do the processes
    assert not parent.is_alive(), "the worker processes did not finish"
    logged = capfd.readouterr().err

    # Each camera was connected by exactly one process, and not by the same one.
    connected: dict[str, set[str]] = {first: set(), second: set()}
    for process, camera_id in re.findall(r"(traffic-worker-\d+) camera (\S+) is up", logged):
        connected[camera_id].add(process)
    assert connected == {first: {"traffic-worker-1"}, second: {"traffic-worker-2"}}, (plan, logged[-2000:])
    assert [line.split(": ")[1] for line in plan] == [first, second]
    # What each saw reached the server: its counts over the video's intervals and its snapshot.
    for camera_id in (first, second):
        assert observation_count(kernel, camera_id) > 10
        urn = f"urn:ngsi-ld:Camera:{camera_id}"
        series = admin.get("/api/series", params={"entity": urn, "metric": "count.car"}).json()["series"]
        assert sum(bucket["sum"] for bucket in series["count.car"]) > 0
        assert admin.get(f"/api/traffic/cameras/{camera_id}/snapshot.jpg").status_code == 200


def test_the_worker_follows_the_registry_and_stops_while_a_camera_is_down(
    live_server: str,
    auth_headers: dict[str, str],
    kernel: Kernel,
    database_url: str,
    scene: SyntheticScene,
) -> None:
    """Cameras on a loopback port where nothing listens: down, waiting out a long reconnect backoff."""
    admin = httpx.Client(base_url=live_server, headers=auth_headers, timeout=10)
    unreachable = f"rtsp://127.0.0.1:{free_port()}/live"
    assert admin.put("/api/traffic/cameras/rl-01", json=camera_body(unreachable, scene)).status_code == 200
    options = WorkerOptions(
        server=live_server,
        token=device_token(kernel),
        database_url=database_url,
        camera_ids=("rl-01", "rl-02"),
        reload_s=0.5,
        backoff_max_s=30.0,
    )
    stop = threading.Event()
    lines: list[str] = []
    worker = threading.Thread(target=run_worker, args=(options, stop, lines.append), daemon=True)
    worker.start()
    try:
        wait_for(
            "the camera to be down",
            lambda: admin.get("/api/traffic/cameras/rl-01").json()["state"] == "down",
            10,
        )
        assert "bỏ qua / skipped rl-02: not in the registry" in lines

        # Added, changed, retired through the API: the worker follows within a reload or two.
        assert (
            admin.put("/api/traffic/cameras/rl-02", json=camera_body(unreachable, scene)).status_code == 200
        )
        wait_for("rl-02 to start", lambda: "bắt đầu / started rl-02" in lines, 5)
        changed = camera_body(unreachable, scene, interval_s=10)
        assert admin.put("/api/traffic/cameras/rl-01", json=changed).status_code == 200
        wait_for("rl-01 to restart", lambda: "khởi động lại / restarted rl-01" in lines, 5)
        assert admin.delete("/api/traffic/cameras/rl-02").status_code == 204
        wait_for("rl-02 to stop", lambda: any(line.startswith("dừng / stopped rl-02") for line in lines), 5)
        time.sleep(1.5)  # a few more reloads: nothing unchanged is restarted
        assert sum("rl-01" in line and "restarted" in line for line in lines) == 1
        alive = {thread.name for thread in threading.enumerate()}
        assert "camera-rl-01" in alive and "camera-rl-02" not in alive
    finally:
        began = time.monotonic()
        stop.set()
        worker.join(timeout=15)
    took = time.monotonic() - began
    assert not worker.is_alive()
    assert took < 3.0, f"stopping took {took:.1f} s"  # not the 30 s backoff
    assert "camera-rl-01" not in {thread.name for thread in threading.enumerate()}
