"""The process side of `cityops traffic run`: cameras in threads within a process, processes across cores.

One process runs all its cameras' threads with one shared detector: ONNX Runtime already spreads one
inference over the cores it is given. Decoding (PyAV) and the Python per-frame work hold the GIL part of
the time, so beyond a few cameras, one worker process per core scales out: `--workers N` shares the
cameras among N processes by a stable hash of their id (each process with its own detector and
connection to the server, each following its share of the registry as cameras come and go).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from cityops.core.store import open_engine
from cityops.traffic.models.weights import default_weights_path
from cityops.traffic.video.detector import NanoDetDetector, open_detector
from cityops.traffic.workers.uplink import Uplink
from cityops.traffic.workers.worker import CameraRun, WorkerCamera, WorkerOptions, load_cameras, shard_of

log = logging.getLogger(__name__)
Echo = Callable[[str], None]


class WorkerError(RuntimeError):
    """The worker cannot start; the message names the option or camera and why."""


def registry_cameras(options: WorkerOptions) -> tuple[list[WorkerCamera], list[str]]:
    engine = open_engine(options.database_url)
    try:
        return load_cameras(engine, options)
    except SQLAlchemyError as exc:
        raise WorkerError(f"--database: cannot read the camera registry ({exc.__class__.__name__})") from None
    finally:
        engine.dispose()


def run_worker(options: WorkerOptions, stop: threading.Event | None = None, echo: Echo = print) -> None:
    """Watch the cameras until `stop` is set (or Ctrl-C), or until every camera has ended (files).
    Every `options.reload_s` the registry is read again and the cameras follow it (see `_follow`)."""
    cameras, skipped = registry_cameras(options)
    for why in skipped:
        echo(f"bỏ qua / skipped {why}")
    if not cameras and options.shard is None:  # one of several processes may have none yet: it waits
        raise WorkerError("no camera to watch: register cameras with a stream URL and analytics first")
    detectors = _Detectors(options.model)
    for camera in cameras:
        detectors.for_camera(camera)  # a missing model is an error at start, a skipped camera later
    uplink = Uplink(options.server, options.token)
    uplink.start()
    runs: dict[str, CameraRun] = {}
    for camera in cameras:
        runs[camera.camera_id] = _start(camera, options, uplink, detectors.for_camera(camera))
    echo(f"{len(runs)} camera(s) → {options.server}")
    stop = stop or threading.Event()
    last_beat = last_status = last_reload = time.monotonic()
    try:
        while not stop.wait(0.5):
            now = time.monotonic()
            if now - last_beat >= options.heartbeat_s:
                last_beat = now
                for run in runs.values():
                    run.heartbeat()
            if now - last_status >= options.status_every_s:
                last_status = now
                _print_status(list(runs.values()), uplink, echo)
            if options.reload_s > 0 and now - last_reload >= options.reload_s:
                last_reload = now
                _follow(runs, options, uplink, detectors, echo)
            if runs and all(
                run.handle is not None and not run.handle.thread.is_alive() for run in runs.values()
            ):
                break
    except KeyboardInterrupt:
        echo("dừng / stopping")
    finally:
        for run in runs.values():
            if run.handle is not None:
                run.handle.stop.set()
        for run in runs.values():
            if run.handle is not None:
                run.handle.join(timeout=2.0)
        uplink.close()
        _print_status(list(runs.values()), uplink, echo)


class _Detectors:
    """One detector for the process, opened when the first camera in detector mode needs it."""

    def __init__(self, model: Path | None) -> None:
        self.model = model
        self._detector: NanoDetDetector | None = None

    def get(self) -> NanoDetDetector:
        if self._detector is None:
            try:
                path = self.model or default_weights_path()
            except ValueError as exc:
                raise WorkerError(str(exc)) from None
            if not path.is_file():
                make = (
                    "`cityops traffic models --int8` (or `--calibration DIR`)"
                    if "int8" in path.name
                    else ("`cityops traffic models`")
                )
                raise WorkerError(f"--model: {path} does not exist; run {make} first")
            self._detector = open_detector(path)  # with the class map beside a user-supplied model
        return self._detector

    def for_camera(self, camera: WorkerCamera) -> NanoDetDetector | None:
        return self.get() if camera.config.mode == "detector" else None


def _start(
    camera: WorkerCamera, options: WorkerOptions, uplink: Uplink, detector: NanoDetDetector | None
) -> CameraRun:
    run = CameraRun(camera, uplink.send_points, uplink.send_snapshot, options.snapshot_every_s)
    run.start(detector)
    return run


def _stop(run: CameraRun) -> None:
    if run.handle is not None:
        run.handle.stop.set()
        run.handle.join(timeout=2.0)


def _follow(
    runs: dict[str, CameraRun], options: WorkerOptions, uplink: Uplink, detectors: _Detectors, echo: Echo
) -> None:
    """Make `runs` what the registry says now: start new cameras, stop retired ones (or ones that lost
    their stream URL or analytics), restart those whose configuration changed. An unreadable registry
    keeps the cameras as they are."""
    try:
        cameras, _ = registry_cameras(options)
    except WorkerError as exc:
        log.warning("registry not read again, cameras unchanged: %s", exc)
        return
    wanted = {camera.camera_id: camera for camera in cameras}
    for camera_id in [c for c in runs if c not in wanted]:
        _stop(runs.pop(camera_id))
        echo(f"dừng / stopped {camera_id}: no longer in the registry")
    for camera_id, camera in wanted.items():
        current = runs.get(camera_id)
        if current is not None and current.camera.signature == camera.signature:
            continue
        try:
            detector = detectors.for_camera(camera)
        except WorkerError as exc:
            echo(f"bỏ qua / skipped {camera_id}: {exc}")
            continue
        if current is not None:
            _stop(current)
        runs[camera_id] = _start(camera, options, uplink, detector)
        echo(f"{'khởi động lại / restarted' if current else 'bắt đầu / started'} {camera_id}")


def _print_status(runs: list[CameraRun], uplink: Uplink, echo: Echo) -> None:
    for run in runs:
        echo(run.status())
    stats = uplink.stats
    line = (
        f"sent {stats.points_sent} points, {stats.snapshots_sent} snapshots; dropped {stats.points_dropped}"
    )
    if stats.last_error:
        line += f"; last error: {stats.last_error}"
    echo(line)


def _child(options: WorkerOptions) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(message)s")
    try:
        run_worker(options)
    except WorkerError as exc:
        print(f"lỗi / error: {exc}", flush=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:  # the parent stops the children too
        pass


def run_processes(options: WorkerOptions, workers: int, echo: Echo = print) -> None:
    """Share the cameras among `workers` processes by a hash of their id (`shard_of`), so that each
    process follows its own share of the registry as cameras come and go; wait for them (Ctrl-C stops
    them all)."""
    cameras, skipped = registry_cameras(options)
    for why in skipped:
        echo(f"bỏ qua / skipped {why}")
    if not cameras:
        raise WorkerError("no camera to watch: register cameras with a stream URL and analytics first")
    groups: list[list[str]] = [[] for _ in range(workers)]
    for camera in cameras:
        groups[shard_of(camera.camera_id, workers)].append(camera.camera_id)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=_child, args=(replace(options, shard=(n, workers)),), name=f"traffic-worker-{n + 1}"
        )
        for n in range(workers)
    ]
    for process, group in zip(processes, groups, strict=True):
        process.start()
        echo(f"{process.name} (pid {process.pid}): {', '.join(group) or '(none yet)'}")
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)


def run_traffic_command(
    server: str,
    token: str,
    cameras: list[str] | None,
    database: str | None,
    workers: int,
    model: Path | None,
    snapshot_every_s: float,
    reload_every_s: float = 30.0,
) -> None:
    """`cityops traffic run`, with its options checked and its errors as one clear line."""
    import typer

    from cityops.config import Settings

    if not token.strip():
        raise typer.BadParameter("a device token is needed: --token or CITYOPS_TOKEN", param_hint="--token")
    if not server.startswith(("http://", "https://")):
        raise typer.BadParameter(f"must be an http(s) URL (got {server!r})", param_hint="--server")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(message)s")
    settings = Settings()
    options = WorkerOptions(
        server=server,
        token=token.strip(),
        database_url=database or settings.database_url,
        camera_ids=tuple(cameras) if cameras else None,
        model=model,
        snapshot_every_s=snapshot_every_s,
        reload_s=reload_every_s,
        allow_local=settings.outbound_private_allowed,
    )
    try:
        if workers > 1:
            run_processes(options, workers, typer.echo)
        else:
            run_worker(options, echo=typer.echo)
    except WorkerError as exc:
        typer.echo(f"lỗi / error: {exc}", err=True)
        raise typer.Exit(2) from None
