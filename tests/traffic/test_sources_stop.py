"""Stopping a camera that is down: its thread ends promptly whether it is waiting to reconnect (the backoff)
or stuck connecting to an RTSP server that never answers, instead of sleeping and retrying for ever."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from cityops.traffic.analytics.pipeline import CameraConfig, start_camera
from cityops.traffic.video.sources import SourceConfig, SourceEvent, SourceState, VideoSource

from ..conftest import free_port, wait_for

STOP_BOUND_S = 2.0


@pytest.fixture
def silent_rtsp_server() -> Iterator[tuple[str, threading.Event]]:
    """A TCP listener on loopback that accepts connections and never says a word: RTSP's OPTIONS waits."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            accepted.set()

    threading.Thread(target=accept, daemon=True).start()
    yield f"rtsp://127.0.0.1:{server.getsockname()[1]}/live", accepted
    server.close()
    for conn in held:
        conn.close()


def stop_and_time(
    url: str, ready: threading.Event | None = None, **source: object
) -> tuple[float, list[str]]:
    """Start a camera on `url`, wait until it is down (or `ready`), stop it; seconds until its thread ended."""
    events: list[SourceEvent] = []
    down = threading.Event()

    def on_event(event: SourceEvent) -> None:
        events.append(event)
        if event.state is SourceState.DOWN:
            down.set()

    config = CameraConfig("down-01", SourceConfig(url, **source), mode="motion")  # type: ignore[arg-type]
    handle = start_camera(config, on_source_event=on_event)
    assert (ready or down).wait(10), "the camera never tried to connect"
    time.sleep(0.3)  # well inside the backoff or the connection attempt
    assert handle.thread.is_alive()
    began = time.monotonic()
    handle.stop.set()
    handle.join(timeout=10)
    took = time.monotonic() - began
    assert not handle.thread.is_alive(), "the camera thread is still running"
    assert handle.error is None, handle.error
    return took, [event.reason for event in events]


def test_a_camera_waiting_to_reconnect_stops_at_once() -> None:
    """Nothing listens on the port: the connection is refused, then the source waits its 30 s backoff."""
    took, reasons = stop_and_time(
        f"rtsp://127.0.0.1:{free_port()}/live", backoff_initial_s=30.0, backoff_max_s=60.0
    )
    assert took < STOP_BOUND_S, f"stop took {took:.2f} s"
    assert reasons and reasons[0].startswith("cannot connect")


def test_a_camera_stuck_connecting_stops_before_its_open_timeout(
    silent_rtsp_server: tuple[str, threading.Event],
) -> None:
    url, accepted = silent_rtsp_server
    took, reasons = stop_and_time(url, accepted, open_timeout_s=30.0, read_timeout_s=30.0)
    assert took < STOP_BOUND_S, f"stop took {took:.2f} s"
    assert reasons == []  # it never got far enough to be up or down


def test_stop_through_the_callers_event_ends_frames_during_backoff() -> None:
    stop = threading.Event()
    source = VideoSource(
        SourceConfig(f"rtsp://127.0.0.1:{free_port()}/live", backoff_initial_s=30.0), stop=stop
    )
    frames: list[object] = []
    reader = threading.Thread(target=lambda: frames.extend(source.frames()), daemon=True)
    reader.start()
    wait_for("the source to be down", lambda: source.state is SourceState.DOWN, timeout=10, every_s=0.05)
    stop.set()
    reader.join(STOP_BOUND_S)
    assert not reader.is_alive() and frames == []
    assert source.stopped
