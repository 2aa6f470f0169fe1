"""RTSP against real peers on loopback.

Pull (the usual camera set-up, RTP interleaved over TCP): the RTSP server of PyPI's `aio-rtsp-toolkit`
serves the synthetic video; Debian has no RTSP server that speaks TCP interleaved (`rtsp-server-perl`
only does UDP) nor MediaMTX. Push (a camera or NVR that sends to us): Debian's `ffmpeg` pushes a file with
ANNOUNCE/RECORD over TCP to our source, which listens (`-rtsp_flags listen` of FFmpeg's RTSP demuxer).
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from cityops.core.outbound import IPAddress
from cityops.traffic.registry import pin_stream_url
from cityops.traffic.video.sources import (
    SourceConfig,
    SourceEvent,
    SourceState,
    SourceUnreachableError,
    VideoSource,
)

from ..conftest import free_port, wait_for

SERVER = "import asyncio, sys, aio_rtsp_toolkit.server as s; asyncio.run(s.serve(sys.argv[1], '127.0.0.1', int(sys.argv[2])))"


def listens(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class RtspServer:
    def __init__(self, folder: Path, port: int) -> None:
        pytest.importorskip(
            "aio_rtsp_toolkit.server", reason="pip install aio-rtsp-toolkit (a dev dependency)"
        )
        self.folder, self.port = folder, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-c", SERVER, str(self.folder), str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(f"the RTSP server on port {self.port}", lambda: listens(self.port), timeout=10, every_s=0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def rtsp_server(scene_video: Path, tmp_path: Path) -> Iterator[RtspServer]:
    shutil.copy(scene_video, tmp_path / "camera.mp4")
    server = RtspServer(tmp_path, free_port())
    server.start()
    yield server
    server.kill()


def live_config(url: str, **options: object) -> SourceConfig:
    settings: dict[str, object] = {
        "sample_fps": 5.0,
        "open_timeout_s": 5.0,
        "read_timeout_s": 3.0,
        "backoff_initial_s": 0.1,
        "backoff_max_s": 0.5,
        **options,
    }
    return SourceConfig(url, **settings)  # type: ignore[arg-type]


def test_frames_from_a_camera_over_rtsp_tcp(rtsp_server: RtspServer) -> None:
    events: list[SourceEvent] = []
    source = VideoSource(
        live_config(f"rtsp://127.0.0.1:{rtsp_server.port}/camera.mp4"), on_event=events.append
    )
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == 8:
            break
    assert [f.image.shape for f in frames] == [(360, 640, 3)] * 8
    rate = (len(frames) - 1) / (frames[-1].time_s - frames[0].time_s)
    assert 3.5 < rate < 6.5  # sampled to about 5 a second of a stream paced in real time
    assert [e.state for e in events] == [SourceState.UP]


def test_a_camera_that_goes_away_is_reported_down_then_up(rtsp_server: RtspServer) -> None:
    events: list[SourceEvent] = []
    source = VideoSource(
        live_config(f"rtsp://127.0.0.1:{rtsp_server.port}/camera.mp4"), on_event=events.append
    )
    restart = threading.Timer(1.5, rtsp_server.start)
    before = after = 0
    for _frame in source.frames():
        if source.stats.connections == 1:
            before += 1
            if before == 3:
                rtsp_server.kill()
                restart.start()
        else:
            after += 1
            if after == 3:
                break
    restart.join()
    assert [e.state for e in events] == [SourceState.UP, SourceState.DOWN, SourceState.UP]
    assert source.stats.connections == 2


def test_an_unreachable_camera_is_down_once_then_given_up() -> None:
    events: list[SourceEvent] = []
    url = f"rtsp://viewer:secret@127.0.0.1:{free_port()}/stream"
    source = VideoSource(live_config(url, max_attempts=3, backoff_initial_s=0.05), on_event=events.append)
    started = time.monotonic()
    with pytest.raises(
        SourceUnreachableError, match=r"viewer:\*\*\*@127\.0\.0\.1.*unreachable after 3 attempts"
    ):
        list(source.frames())
    assert [e.state for e in events] == [SourceState.DOWN]
    assert "secret" not in events[0].source
    assert time.monotonic() - started < 5  # 0.05 + 0.1 s of backoff, not the open timeout


def test_a_path_the_server_does_not_have(rtsp_server: RtspServer) -> None:
    source = VideoSource(live_config(f"rtsp://127.0.0.1:{rtsp_server.port}/nothing.mp4", max_attempts=2))
    with pytest.raises(SourceUnreachableError, match="unreachable after 2 attempts"):
        list(source.frames())


def test_a_server_that_answers_garbage() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_garbage() -> None:
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"\x00\xff garbage \x13\x37" * 200)

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    events: list[SourceEvent] = []
    source = VideoSource(live_config(f"rtsp://127.0.0.1:{port}/x", max_attempts=2), on_event=events.append)
    with pytest.raises(SourceUnreachableError, match="unreachable after 2 attempts"):
        list(source.frames())
    listener.close()
    assert [e.state for e in events] == [SourceState.DOWN]


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="apt-get install ffmpeg")
def test_ffmpeg_pushes_to_a_listening_source(scene_video: Path) -> None:
    port = free_port()
    url = f"rtsp://127.0.0.1:{port}/live"
    push = ["ffmpeg", "-loglevel", "error", "-re", "-i", str(scene_video), "-t", "4", "-c", "copy"]
    push += ["-f", "rtsp", "-rtsp_transport", "tcp", url]
    processes: list[subprocess.Popen[bytes]] = []

    def start_pushing() -> None:
        for _ in range(40):  # ffmpeg gives up at once while our source is not listening yet: try again
            process = subprocess.Popen(push, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(process)
            try:
                process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                return  # connected and streaming

    threading.Thread(target=start_pushing, daemon=True).start()
    source = VideoSource(live_config(url, listen=True, open_timeout_s=10.0))
    frames = []
    try:
        for frame in source.frames():
            frames.append(frame)
            if len(frames) == 8:
                break
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)
    assert [f.image.shape for f in frames] == [(360, 640, 3)] * 8
    assert source.state is SourceState.UP


def answers(*replies: str) -> Callable[[str], list[IPAddress]]:
    """A resolver that gives each reply in turn (the last one from then on), as a rebinding DNS does."""
    queue = [[ipaddress.ip_address(reply)] for reply in replies]
    asked: list[str] = []

    def resolve(host: str) -> list[IPAddress]:
        asked.append(host)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return resolve


def test_the_worker_connects_to_the_address_it_checked(rtsp_server: RtspServer) -> None:
    """The name resolves to this machine when checked and elsewhere a moment later: the stream comes from
    the checked address (the name itself resolves nowhere, so FFmpeg never looked it up)."""
    pin = partial(pin_stream_url, allow_local=True, resolver=answers("127.0.0.1", "8.8.8.8"))
    url = f"rtsp://camera-7.rebind.invalid:{rtsp_server.port}/camera.mp4"
    source = VideoSource(live_config(url, pin=pin, max_attempts=1))
    frames = source.frames()
    first = next(frames)
    frames.close()
    assert first.image.shape[0] > 0 and source.stats.connections == 1


def test_a_name_rebound_to_loopback_is_never_connected_to() -> None:
    """First answer public (checked, allowed), second answer loopback: the connection goes to the public
    address (unreachable here), never to the listener on loopback."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        pin = partial(pin_stream_url, allow_local=False, resolver=answers("8.8.8.8", "127.0.0.1"))
        url = f"rtsp://camera-7.rebind.invalid:{port}/live"
        source = VideoSource(
            live_config(url, pin=pin, max_attempts=1, open_timeout_s=1.0, read_timeout_s=1.0)
        )
        with pytest.raises(SourceUnreachableError):
            next(source.frames())
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came


def test_localhost_is_refused_at_each_connection_unless_allowed() -> None:
    events: list[SourceEvent] = []
    pin = partial(pin_stream_url, allow_local=False)
    source = VideoSource(
        live_config("rtsp://localhost:9/live", pin=pin, max_attempts=2), on_event=events.append
    )
    with pytest.raises(SourceUnreachableError, match="outbound_private_allowed"):
        next(source.frames())
    assert [event.state for event in events] == [SourceState.DOWN]
    assert "refused" in events[0].reason
