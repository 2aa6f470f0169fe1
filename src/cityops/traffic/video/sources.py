"""Frames from video files and cameras (RTSP and other live URLs) through PyAV.

A `VideoSource` yields BGR frames sampled to a configured rate. Live sources reconnect with exponential
backoff and report each change between up and down through a callback, so the kernel can raise a
"camera down" alert. Files are read once. Anything that is not a readable video ends in a typed
`SourceError` naming the source and why, never in a crash of the worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import av
import av.container
import cv2
import numpy as np
from numpy.typing import NDArray

from cityops.core.outbound import OutboundRefused, PinnedUrl

log = logging.getLogger(__name__)

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt"})


class SourceError(Exception):
    """A video source could not give frames; the message names the source and why."""


class SourceUnreachableError(SourceError):
    """The file is missing or unreadable, or the camera could not be reached."""


class InvalidStreamError(SourceError):
    """The bytes are not a decodable video: garbage, no video stream, only empty frames."""


class TruncatedStreamError(SourceError):
    """A file ended well before the duration its header declares."""


class SourceState(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class SourceEvent:
    state: SourceState
    source: str
    reason: str
    at: float = field(default_factory=time.time)


LUMA_FIRST_FORMATS = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"}
)


class Frame:
    """One decoded frame. Pixels are converted only when asked for: motion analysis reads the luma
    plane as it comes from the decoder, and only frames given to the detector pay for BGR."""

    def __init__(
        self, video_frame: av.VideoFrame, time_s: float, index: int, width: int | None = None
    ) -> None:
        self._video_frame = video_frame
        self._width = width
        self.time_s = time_s
        """Seconds since the source started: stream time for files, monotonic wall time for live sources."""
        self.index = index
        """Number of the decoded frame this one is, counting from 0 across reconnects."""

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of `image` and `grey`."""
        frame = self._video_frame
        if self._width is None or self._width == frame.width:
            return frame.width, frame.height
        return self._width, max(2, round(frame.height * self._width / frame.width / 2) * 2)

    @cached_property
    def image(self) -> NDArray[np.uint8]:
        """BGR, height x width x 3; its size may change mid-stream."""
        width, height = self.size
        frame = self._video_frame
        if (width, height) == (frame.width, frame.height):
            return np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
        return np.ascontiguousarray(frame.reformat(width=width, height=height, format="bgr24").to_ndarray())

    @cached_property
    def grey(self) -> NDArray[np.uint8]:
        """Luma, height x width."""
        frame = self._video_frame
        if frame.format.name not in LUMA_FIRST_FORMATS:
            return np.asarray(cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        luma: NDArray[np.uint8] = rows[: frame.height, : frame.width]
        width, height = self.size
        if (width, height) != (frame.width, frame.height):
            return np.asarray(cv2.resize(luma, (width, height), interpolation=cv2.INTER_AREA), dtype=np.uint8)
        return luma


@dataclass(frozen=True)
class SourceConfig:
    url: str
    sample_fps: float | None = 5.0
    """Frames kept per second of stream time; None keeps every decoded frame."""
    transport: Literal["tcp", "udp"] = "tcp"
    listen: bool = False
    """RTSP only: act as the server and wait for the camera to push (ANNOUNCE/RECORD) to this URL."""
    open_timeout_s: float = 10.0
    read_timeout_s: float = 10.0
    reconnect: bool | None = None
    """None: live URLs reconnect, files do not."""
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_attempts: int | None = None
    """Consecutive failed connections before giving up with SourceUnreachableError; None tries forever."""
    scale_width: int | None = None
    """Scale frames to this width, keeping the aspect ratio (the height is rounded to an even number)."""
    decoder_threads: int = 1
    max_corrupt_packets: int = 50
    """Consecutive undecodable packets tolerated before the stream is declared invalid."""
    pin: Callable[[str], PinnedUrl] | None = field(default=None, compare=False)
    """Network URLs: called right before each connection (and reconnection) to check where `url` points
    now and get it with the checked address in place of its name; FFmpeg then connects to that address,
    never resolving the name itself (DNS rebinding). Raises `OutboundRefused` to refuse."""

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool, str]] = [
            ("url", bool(self.url.strip()), "must not be empty"),
            ("sample_fps", self.sample_fps is None or self.sample_fps > 0, "must be positive"),
            ("transport", self.transport in ("tcp", "udp"), "must be 'tcp' or 'udp'"),
            ("open_timeout_s", self.open_timeout_s > 0, "must be positive"),
            ("read_timeout_s", self.read_timeout_s > 0, "must be positive"),
            ("backoff_initial_s", self.backoff_initial_s > 0, "must be positive"),
            ("backoff_max_s", self.backoff_max_s >= self.backoff_initial_s, "must be >= backoff_initial_s"),
            ("max_attempts", self.max_attempts is None or self.max_attempts >= 1, "must be at least 1"),
            ("scale_width", self.scale_width is None or self.scale_width >= 16, "must be at least 16"),
            ("decoder_threads", self.decoder_threads >= 0, "must be >= 0 (0 lets FFmpeg choose)"),
            ("max_corrupt_packets", self.max_corrupt_packets >= 0, "must be >= 0"),
        ]
        for name, ok, why in checks:
            if not ok:
                raise ValueError(f"{name}: {why} (got {getattr(self, name)!r})")
        if self.listen and self.scheme != "rtsp":
            raise ValueError(f"listen: only rtsp:// URLs can listen (got {self.scheme or 'a file'})")

    @property
    def scheme(self) -> str:
        scheme = urlsplit(self.url).scheme.lower()
        return scheme if len(scheme) > 1 else ""  # "C:" in a Windows path is not a scheme

    @property
    def is_live(self) -> bool:
        return self.scheme in LIVE_SCHEMES

    @property
    def reconnects(self) -> bool:
        return self.is_live if self.reconnect is None else self.reconnect


@dataclass
class SourceStats:
    decoded: int = 0
    emitted: int = 0
    corrupt_packets: int = 0
    zero_size_frames: int = 0
    resolution_changes: int = 0
    connections: int = 0


# Query parameters that carry a credential (cameras' HTTP snapshot and stream URLs often do).
SECRET_PARAMETERS = ("pass", "pwd", "token", "key", "secret", "auth", "signature", "credential", "sig")


def _secret_parameter(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_PARAMETERS)


def redact(url: str) -> str:
    """The URL with any password replaced — in the user part and in query parameters such as
    `password`, `pwd`, `token`, `key`, `secret` — fit for logs, events, error messages and operators."""
    parts = urlsplit(url)
    if parts.password is not None:
        netloc = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username}:***@{netloc}")
    if parts.query:
        pairs = [pair.partition("=") for pair in parts.query.split("&")]
        query = "&".join(
            f"{name}{eq}***" if eq and _secret_parameter(name) else f"{name}{eq}{value}"
            for name, eq, value in pairs
        )
        parts = parts._replace(query=query)
    return urlunsplit(parts)


class VideoSource:
    """Iterate `frames()` in a worker thread; `stop()` may be called from any thread."""

    def __init__(
        self,
        config: SourceConfig,
        on_event: Callable[[SourceEvent], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """`stop`: an event the caller owns (e.g. a camera thread's); setting it ends `frames()` as
        `stop()` does, also during a reconnect backoff or a connection attempt."""
        self.config = config
        self.name = redact(config.url)
        self.stats = SourceStats()
        self.state: SourceState | None = None
        self._on_event = on_event
        self._stop = stop if stop is not None else threading.Event()
        self._started = time.monotonic()
        self._size: tuple[int, int] | None = None

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def frames(self) -> Generator[Frame]:
        if not self.config.is_live:
            self._check_file()
        failures = 0
        delay = self.config.backoff_initial_s
        while not self._stop.is_set():
            try:
                container = self._open() if not self.config.is_live else self._open_unless_stopped()
            except (av.FFmpegError, OSError) as exc:
                if not self.config.reconnects:
                    raise self._classify(exc, opening=True) from exc
                failures += 1
                self._set_state(SourceState.DOWN, f"cannot connect: {exc}")
                if self.config.max_attempts is not None and failures >= self.config.max_attempts:
                    raise SourceUnreachableError(
                        f"{self.name}: unreachable after {failures} attempts: {exc}"
                    ) from exc
                self._stop.wait(delay)
                delay = min(delay * 2, self.config.backoff_max_s)
                continue
            if container is None:  # stopped while connecting
                return
            self.stats.connections += 1
            reason = "end of stream"
            with container:
                self._set_state(SourceState.UP, "connected")
                try:
                    for frame in self._decode(container):
                        failures, delay = 0, self.config.backoff_initial_s
                        yield frame
                        if self._stop.is_set():
                            return
                except (av.FFmpegError, OSError, SourceError) as exc:
                    if not self.config.reconnects:
                        raise self._classify(exc, opening=False) from exc
                    reason = f"read failed: {exc}"
            if not self.config.reconnects:
                return
            self._set_state(SourceState.DOWN, reason)
            self._stop.wait(delay)
            delay = min(delay * 2, self.config.backoff_max_s)

    def _check_file(self) -> None:
        path = Path(self.config.url.removeprefix("file:"))
        if not path.is_file():
            raise SourceUnreachableError(f"{self.name}: no such file")
        if path.stat().st_size == 0:
            raise InvalidStreamError(f"{self.name}: the file is empty (0 bytes)")

    def _open(self) -> av.container.InputContainer:
        options: dict[str, str] = {}
        url = self.config.url
        if self.config.pin is not None and self.config.is_live and not self.config.listen:
            try:
                pinned = self.config.pin(url)
            except OutboundRefused as refused:
                raise ConnectionRefusedError(f"refused: {refused}") from None
            url = pinned.url
            if self.config.scheme in ("http", "https"):
                options["headers"] = f"Host: {pinned.host_header}\r\n"  # the name, for virtual hosts
        if self.config.scheme in ("rtsp", "rtsps"):
            options["rtsp_transport"] = self.config.transport
            if self.config.listen:
                options["rtsp_flags"] = "listen"
                options["listen_timeout"] = str(max(1, round(self.config.open_timeout_s)))
            else:
                options["timeout"] = str(round(self.config.read_timeout_s * 1_000_000))
        return av.open(
            url,
            mode="r",
            options=options,
            timeout=(self.config.open_timeout_s, self.config.read_timeout_s),
        )

    def _open_unless_stopped(self) -> av.container.InputContainer | None:
        """`_open` in a helper thread, so that `stop` need not wait out FFmpeg's open timeout (PyAV has
        no hook to interrupt an open): None when stopped first; the helper then closes what it opens."""
        attempt = _Connection(self._open, name=f"open-{self.name}"[:60])
        while not attempt.done.wait(0.05):
            if self._stop.is_set() and attempt.abandon():
                return None
        return attempt.result()

    def _decode(self, container: av.container.InputContainer) -> Iterator[Frame]:
        if not container.streams.video:
            raise InvalidStreamError(f"{self.name}: no video stream")
        stream = container.streams.video[0]
        stream.thread_count = self.config.decoder_threads
        if self.config.decoder_threads != 1:
            stream.thread_type = "AUTO"
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        period = 1 / self.config.sample_fps if self.config.sample_fps else 0.0
        next_due = -1.0
        first_pts: float | None = None
        last_time = -1 / rate
        corrupt_run = 0
        decoded_here = 0
        for packet in container.demux(stream):
            if self._stop.is_set():  # also between packets whose frames the sampling skips
                return
            try:
                decoded = packet.decode()
            except av.InvalidDataError:
                self.stats.corrupt_packets += 1
                corrupt_run += 1
                if corrupt_run > self.config.max_corrupt_packets:
                    raise InvalidStreamError(
                        f"{self.name}: {corrupt_run} undecodable packets in a row"
                    ) from None
                continue
            corrupt_run = 0
            for video_frame in decoded:
                if not isinstance(video_frame, av.VideoFrame):
                    continue
                if video_frame.width == 0 or video_frame.height == 0:
                    self.stats.zero_size_frames += 1
                    continue
                self.stats.decoded += 1
                decoded_here += 1
                if video_frame.time is not None and not self.config.is_live:
                    first_pts = video_frame.time if first_pts is None else first_pts
                    stream_time = video_frame.time - first_pts
                    if not last_time < stream_time < last_time + 10:
                        # The clock jumped (joined segments, a wrapped counter): carry on one frame later.
                        first_pts = video_frame.time - (last_time + 1 / rate)
                        stream_time = last_time + 1 / rate
                else:
                    stream_time = last_time + 1 / rate
                last_time = stream_time
                now = time.monotonic() - self._started if self.config.is_live else stream_time
                if period and now + 1e-6 < next_due:
                    continue
                next_due = next_due + period if next_due + period > now else now + period
                self._note_size(video_frame.width, video_frame.height)
                self.stats.emitted += 1
                yield Frame(video_frame, now, self.stats.decoded - 1, self.config.scale_width)
        if not self.config.is_live:
            self._check_complete(container, decoded_here, last_time, rate)

    def _note_size(self, width: int, height: int) -> None:
        if self._size is not None and self._size != (width, height):
            self.stats.resolution_changes += 1
            log.info("%s: resolution changed from %sx%s to %sx%s", self.name, *self._size, width, height)
        self._size = (width, height)

    def _check_complete(
        self, container: av.container.InputContainer, decoded: int, last_time: float, rate: float
    ) -> None:
        if decoded == 0:
            why = "every frame had zero size" if self.stats.zero_size_frames else "no frame could be decoded"
            raise InvalidStreamError(f"{self.name}: {why}")
        if container.duration is None:
            return
        declared = container.duration / av.time_base
        reached = last_time + 1 / rate
        if declared - reached > max(1.0, 0.05 * declared):
            raise TruncatedStreamError(
                f"{self.name}: the file ends at {reached:.1f} s of the {declared:.1f} s its header declares"
            )

    def _classify(self, exc: BaseException, *, opening: bool) -> SourceError:
        if isinstance(exc, SourceError):
            return exc
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError | ConnectionError):
            return SourceUnreachableError(f"{self.name}: {exc}")
        if isinstance(exc, av.InvalidDataError | av.error.EOFError):
            what = "not a readable video" if opening else "the stream is corrupt or cut short"
            return InvalidStreamError(f"{self.name}: {what}: {exc}")
        return (
            SourceUnreachableError(f"{self.name}: {exc}")
            if opening
            else InvalidStreamError(f"{self.name}: {exc}")
        )

    def _set_state(self, state: SourceState, reason: str) -> None:
        if state == self.state:
            return
        self.state = state
        log.log(
            logging.WARNING if state is SourceState.DOWN else logging.INFO,
            "%s %s: %s",
            self.name,
            state,
            reason,
        )
        if self._on_event is not None:
            self._on_event(SourceEvent(state, self.name, reason))


class _Connection:
    """One connection attempt running in its own daemon thread."""

    def __init__(self, connect: Callable[[], av.container.InputContainer], name: str) -> None:
        self.done = threading.Event()
        self._connect = connect
        self._lock = threading.Lock()
        self._abandoned = False
        self._container: av.container.InputContainer | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            container = self._connect()
        except BaseException as exc:
            self._error = exc
            self.done.set()
            return
        with self._lock:
            abandoned = self._abandoned
            if not abandoned:
                self._container = container
                self.done.set()
        if abandoned:
            container.close()

    def abandon(self) -> bool:
        """Give the attempt up; False when it has just finished (its result is then to be taken)."""
        with self._lock:
            if self.done.is_set():
                return False
            self._abandoned = True
            return True

    def result(self) -> av.container.InputContainer:
        if self._error is not None:
            raise self._error
        assert self._container is not None
        return self._container
