"""What a traffic worker sends to the server, over HTTP with a device token, from one sender thread.

Data points are queued and posted in batches to `POST /api/ingest`; a batch the server did not take
(unreachable, 5xx) is kept and sent again with backoff, up to `MAX_QUEUED_POINTS` (the oldest are
dropped beyond, and counted). Snapshots keep only the newest per camera: an old picture is worth nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

log = logging.getLogger(__name__)

MAX_QUEUED_POINTS = 200_000
BATCH_POINTS = 5_000


@dataclass
class UplinkStats:
    points_sent: int = 0
    points_dropped: int = 0
    snapshots_sent: int = 0
    failures: int = 0
    last_error: str | None = None
    last_ok_ms: int | None = None


@dataclass
class Uplink:
    server: str
    token: str
    flush_s: float = 0.5
    timeout_s: float = 10.0
    stats: UplinkStats = field(default_factory=UplinkStats)
    _points: deque[dict[str, Any]] = field(default_factory=deque)
    _snapshots: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def send_points(self, points: list[dict[str, Any]]) -> None:
        with self._lock:
            self._points.extend(points)
            while len(self._points) > MAX_QUEUED_POINTS:
                self._points.popleft()
                self.stats.points_dropped += 1

    def send_snapshot(self, camera_id: str, jpeg: bytes, overlay: dict[str, Any]) -> None:
        with self._lock:
            self._snapshots[camera_id] = (jpeg, orjson.dumps(overlay))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="traffic-uplink", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued (trying for up to `timeout_s`), then stop."""
        deadline = time.monotonic() + timeout_s
        while self.pending() and time.monotonic() < deadline and self._thread and self._thread.is_alive():
            self._wake.set()
            time.sleep(0.05)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=max(0.1, deadline - time.monotonic()))

    def pending(self) -> int:
        with self._lock:
            return len(self._points) + len(self._snapshots)

    def _run(self) -> None:
        delay = self.flush_s
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(
            base_url=self.server.rstrip("/"), headers=headers, timeout=self.timeout_s
        ) as client:
            while not self._stop.is_set():
                self._wake.wait(delay)
                self._wake.clear()
                try:
                    self._flush(client)
                except (httpx.HTTPError, UplinkRefused) as exc:
                    self.stats.failures += 1
                    self.stats.last_error = str(exc)[:300]
                    log.warning("sending to %s failed (%s); retrying in %.1f s", self.server, exc, delay)
                    delay = min(max(delay * 2, 1.0), 30.0)
                else:
                    delay = self.flush_s
                    self.stats.last_ok_ms = int(time.time() * 1000)

    def _flush(self, client: httpx.Client) -> None:
        while True:
            with self._lock:
                batch = [self._points[i] for i in range(min(BATCH_POINTS, len(self._points)))]
            if not batch:
                break
            response = client.post("/api/ingest", json={"points": batch})
            if response.status_code == 422:
                # Points the server will never take (e.g. a metric it does not know): say so, drop them.
                log.error("the server refused %d points: %s", len(batch), response.text[:500])
                self.stats.points_dropped += len(batch)
            elif response.status_code >= 300:
                raise UplinkRefused(f"POST /api/ingest: HTTP {response.status_code} {response.text[:200]}")
            else:
                self.stats.points_sent += len(batch)
            with self._lock:
                for _ in range(len(batch)):
                    self._points.popleft()
        with self._lock:
            snapshots, self._snapshots = self._snapshots, {}
        for camera_id, (jpeg, overlay) in snapshots.items():
            files: dict[str, tuple[str, bytes, str]] = {
                "image": ("snapshot.jpg", jpeg, "image/jpeg"),
                "overlay": ("overlay.json", overlay, "application/json"),
            }
            response = client.post(f"/api/traffic/cameras/{camera_id}/snapshot", files=files)
            if response.status_code >= 500:
                with self._lock:
                    self._snapshots.setdefault(camera_id, (jpeg, overlay))
                raise UplinkRefused(f"snapshot of {camera_id}: HTTP {response.status_code}")
            if response.status_code >= 300:
                log.warning(
                    "snapshot of %s refused: HTTP %s %s", camera_id, response.status_code, response.text[:200]
                )
            else:
                self.stats.snapshots_sent += 1


class UplinkRefused(Exception):
    pass
