"""One camera end to end: source -> motion gate -> detector -> tracker -> counters -> flow records.

`process_camera` blocks for as long as the source gives frames (for ever for a live camera, until `stop`
is set), so it belongs in a worker thread or process: it refuses to run on an asyncio event loop. Output
goes to callbacks, which run in the camera's thread. A multi-camera worker starts one thread per camera
(`start_camera`) and shares one detector between them: ONNX Runtime already spreads one inference over
the cores, so runs are serialised rather than made to fight for them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cityops.traffic.analytics.analysis import CameraAnalysis
from cityops.traffic.analytics.calibration import Calibration
from cityops.traffic.analytics.counting import CountLine, Crossing
from cityops.traffic.analytics.flow import CongestionThresholds, FlowAggregator, TrafficFlowObserved
from cityops.traffic.analytics.incidents import Incident, StoppedVehicleRule, WrongWayRule
from cityops.traffic.analytics.tracking import TrackedObject
from cityops.traffic.analytics.zones import Zone
from cityops.traffic.video.detections import CLASSES, Detections, TrafficClass
from cityops.traffic.video.detector import NanoDetDetector
from cityops.traffic.video.motion import BlobDetector, MotionGate, SizeBand
from cityops.traffic.video.sources import (
    Frame,
    SourceConfig,
    SourceError,
    SourceEvent,
    SourceStats,
    VideoSource,
)


@dataclass(frozen=True)
class CameraConfig:
    camera_id: str
    source: SourceConfig
    mode: Literal["detector", "motion"] = "detector"
    """"motion" counts moving blobs without model weights (classes from `size_bands`, if any)."""
    lines: tuple[CountLine, ...] = ()
    zones: tuple[Zone, ...] = ()
    stopped: StoppedVehicleRule | None = None
    wrong_way: tuple[WrongWayRule, ...] = ()
    calibration: Calibration | None = None
    interval_s: float = 60.0
    motion_gate: bool = True
    """Detector mode: skip the detector on frames without motion while nothing is being tracked."""
    keepalive_s: float = 2.0
    """Detector mode: run the detector at least this often even on still frames."""
    classes: frozenset[TrafficClass] = frozenset(CLASSES)
    size_bands: tuple[SizeBand, ...] = ()
    min_blob_area: float = 150.0
    motion_work_width: int = 320
    min_hits: int = 3
    lost_track_s: float = 2.5
    """How long a track is kept while hidden (behind a bus, a lamp post) before it is dropped."""
    match_buffer: float = 0.5
    """Boxes widened by this share of their size before they are matched to tracks (`VehicleTracker`)."""
    thresholds: CongestionThresholds = field(default_factory=CongestionThresholds)

    def __post_init__(self) -> None:
        if not self.camera_id.strip():
            raise ValueError("camera_id: must not be empty")
        if self.mode not in ("detector", "motion"):
            raise ValueError(f"mode: must be 'detector' or 'motion' (got {self.mode!r})")
        names = [line.name for line in self.lines] + [zone.name for zone in self.zones]
        if len(names) != len(set(names)):
            raise ValueError(f"lines, zones: names must be unique (got {names})")


@dataclass
class CameraReport:
    camera_id: str
    frames: int = 0
    detector_runs: int = 0
    skipped_by_gate: int = 0
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """(line, direction, class) -> vehicles counted."""
    records: int = 0
    incidents: int = 0
    elapsed_s: float = 0.0
    source: SourceStats = field(default_factory=SourceStats)

    def total(self, line: str | None = None) -> int:
        return sum(n for (name, _, _), n in self.counts.items() if line is None or name == line)


# Called after each frame with what is tracked in it and the counts so far (e.g. for snapshots).
FrameCallback = Callable[[Frame, list[TrackedObject], "CameraReport"], None]


def _refuse_event_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        "process_camera blocks on video I/O and inference: run it in a worker thread or process "
        "(e.g. asyncio.to_thread or start_camera), never on the event loop"
    )


def process_camera(
    config: CameraConfig,
    *,
    detector: NanoDetDetector | None = None,
    on_flow: Callable[[TrafficFlowObserved], None] | None = None,
    on_incident: Callable[[Incident], None] | None = None,
    on_source_event: Callable[[SourceEvent], None] | None = None,
    stop: threading.Event | None = None,
    started_at: datetime | None = None,
    on_frame: FrameCallback | None = None,
) -> CameraReport:
    _refuse_event_loop()
    if config.mode == "detector" and detector is None:
        raise ValueError("detector: detector mode needs a NanoDetDetector (or use mode='motion')")
    report = CameraReport(config.camera_id)
    # The source shares the stop event, so a camera that is down stops during its backoff or connection
    # attempt too, not only between frames.
    source = VideoSource(config.source, on_event=on_source_event, stop=stop)
    frames = source.frames()
    report.source = source.stats
    camera = _Camera(config, detector, report)
    aggregator = FlowAggregator(
        config.camera_id,
        config.lines,
        camera.monitors,
        config.interval_s,
        started_at or datetime.now(UTC),
        config.thresholds,
    )

    def emit(records: list[TrafficFlowObserved]) -> None:
        report.records += len(records)
        if on_flow is not None:
            for record in records:
                on_flow(record)

    began = time.perf_counter()
    last_time: float | None = None
    try:
        for frame in frames:
            if stop is not None and stop.is_set():
                break
            emit(aggregator.roll(frame.time_s))
            crossings, incidents = camera.step(frame)
            if on_frame is not None:
                on_frame(frame, camera.tracked, report)
            aggregator.add(crossings)
            for incident in incidents:
                report.incidents += 1
                if on_incident is not None:
                    on_incident(incident)
            last_time = frame.time_s
    except SourceError:
        if last_time is not None:
            emit(aggregator.close(last_time))
        raise
    finally:
        frames.close()  # closes the connection now rather than when the generator is collected
        report.elapsed_s = time.perf_counter() - began
    if last_time is not None:
        emit(aggregator.close(last_time))
    return report


class _Camera:
    """The per-frame work, apart from reading frames and cutting intervals."""

    def __init__(self, config: CameraConfig, detector: NanoDetDetector | None, report: CameraReport) -> None:
        self.config = config
        self.detector = detector
        self.report = report
        use_gate = config.mode == "motion" or config.motion_gate
        self.gate = MotionGate(work_width=config.motion_work_width) if use_gate else None
        self.blobs = BlobDetector(min_area=config.min_blob_area, size_bands=config.size_bands)
        self.analysis = CameraAnalysis(
            frame_rate=config.source.sample_fps or 25.0,
            lines=config.lines,
            zones=config.zones,
            stopped=config.stopped,
            wrong_way=config.wrong_way,
            calibration=config.calibration,
            min_hits=config.min_hits,
            lost_track_s=config.lost_track_s,
            match_buffer=config.match_buffer,
        )
        self.monitors = self.analysis.monitors
        self.shape: tuple[int, int] | None = None
        self.tracked: list[TrackedObject] = []
        self.last_detection = float("-inf")

    def step(self, frame: Frame) -> tuple[list[Crossing], list[Incident]]:
        time_s = frame.time_s
        if self.shape is not None and frame.size != self.shape:
            self.analysis.tracker.reset()  # the picture changed size: old boxes mean nothing in it
        self.shape = frame.size
        self.report.frames += 1
        result = self.analysis.step(self._detect(frame), time_s)
        self.tracked = result.objects
        for crossing in result.crossings:
            self.report.counts[(crossing.line, crossing.direction, crossing.traffic_class.value)] += 1
        return result.crossings, result.incidents

    def _detect(self, frame: Frame) -> Detections:
        motion = self.gate.apply(frame.grey) if self.gate is not None else None
        if self.config.mode == "motion":
            assert motion is not None
            return self.blobs.detect(motion)
        quiet = motion is not None and not motion.moving and not self.tracked
        if quiet and frame.time_s - self.last_detection < self.config.keepalive_s:
            self.report.skipped_by_gate += 1
            return Detections.empty()
        assert self.detector is not None
        self.last_detection = frame.time_s
        self.report.detector_runs += 1
        return self.detector.detect(frame.image).only(self.config.classes)


@dataclass
class CameraHandle:
    config: CameraConfig
    thread: threading.Thread
    stop: threading.Event
    report: CameraReport | None = None
    error: BaseException | None = None

    def join(self, timeout: float | None = None) -> CameraReport | None:
        self.thread.join(timeout)
        return self.report


def start_camera(
    config: CameraConfig,
    *,
    detector: NanoDetDetector | None = None,
    on_flow: Callable[[TrafficFlowObserved], None] | None = None,
    on_incident: Callable[[Incident], None] | None = None,
    on_source_event: Callable[[SourceEvent], None] | None = None,
    started_at: datetime | None = None,
    on_frame: FrameCallback | None = None,
) -> CameraHandle:
    """Run `process_camera` in a daemon thread; `handle.stop.set()` ends it after the current frame, or
    at once while the camera is down (waiting to reconnect, or connecting)."""
    stop = threading.Event()
    handle = CameraHandle(config, threading.Thread(), stop)

    def run() -> None:
        try:
            handle.report = process_camera(
                config,
                detector=detector,
                on_flow=on_flow,
                on_incident=on_incident,
                on_source_event=on_source_event,
                stop=stop,
                started_at=started_at,
                on_frame=on_frame,
            )
        except BaseException as exc:  # kept for the worker to read: one camera must not take the others down
            handle.error = exc

    handle.thread = threading.Thread(target=run, name=f"camera-{config.camera_id}", daemon=True)
    handle.thread.start()
    return handle
