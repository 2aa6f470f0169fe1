"""The process side of `cityops traffic run`: cameras in threads within a process, processes across cores.

One process runs all its cameras' threads with one shared detector: ONNX Runtime already spreads one
inference over the cores it is given. Decoding (PyAV) and the Python per-frame work hold the GIL part of
the time, so beyond a few cameras, one worker process per core scales out: `--workers N` deals the
cameras round-robin to N processes (each with its own detector and connection to the server).
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
from cityops.traffic.detector import open_detector
from cityops.traffic.uplink import Uplink
from cityops.traffic.weights import default_weights_path
from cityops.traffic.worker import CameraRun, WorkerCamera, WorkerOptions, load_cameras

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
    """Watch the cameras until `stop` is set (or Ctrl-C), or until every camera has ended (files)."""
    cameras, skipped = registry_cameras(options)
    for why in skipped:
        echo(f"bỏ qua / skipped {why}")
    if not cameras:
        raise WorkerError("no camera to watch: register cameras with a stream URL and analytics first")
    detector = None
    if any(camera.config.mode == "detector" for camera in cameras):
        path = options.model or default_weights_path()
        if not path.is_file():
            raise WorkerError(f"--model: {path} does not exist; run `cityops traffic models` first")
        detector = open_detector(path)  # with the class map beside a user-supplied model
    uplink = Uplink(options.server, options.token)
    uplink.start()
    runs = [CameraRun(c, uplink.send_points, uplink.send_snapshot, options.snapshot_every_s) for c in cameras]
    for run in runs:
        run.start(detector)
    echo(f"{len(runs)} camera(s) → {options.server}")
    stop = stop or threading.Event()
    last_beat = last_status = time.monotonic()
    try:
        while not stop.wait(0.5):
            now = time.monotonic()
            if now - last_beat >= options.heartbeat_s:
                last_beat = now
                for run in runs:
                    run.heartbeat()
            if now - last_status >= options.status_every_s:
                last_status = now
                _print_status(runs, uplink, echo)
            if all(run.handle is not None and not run.handle.thread.is_alive() for run in runs):
                break
    except KeyboardInterrupt:
        echo("dừng / stopping")
    finally:
        for run in runs:
            if run.handle is not None:
                run.handle.stop.set()
        for run in runs:
            if run.handle is not None:
                run.handle.join(timeout=2.0)
        uplink.close()
        _print_status(runs, uplink, echo)


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
    run_worker(options)


def run_processes(options: WorkerOptions, workers: int, echo: Echo = print) -> None:
    """Deal the cameras round-robin to `workers` processes and wait for them (Ctrl-C stops them all)."""
    cameras, skipped = registry_cameras(options)
    for why in skipped:
        echo(f"bỏ qua / skipped {why}")
    ids = [camera.camera_id for camera in cameras]
    if not ids:
        raise WorkerError("no camera to watch: register cameras with a stream URL and analytics first")
    groups = [tuple(ids[index::workers]) for index in range(min(workers, len(ids)))]
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_child, args=(replace(options, camera_ids=group),), name=f"traffic-worker-{n}")
        for n, group in enumerate(groups, 1)
    ]
    for process, group in zip(processes, groups, strict=True):
        process.start()
        echo(f"{process.name} (pid {process.pid}): {', '.join(group)}")
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
) -> None:
    """`cityops traffic run`, with its options checked and its errors as one clear line."""
    import typer

    from cityops.config import Settings

    if not token.strip():
        raise typer.BadParameter("a device token is needed: --token or CITYOPS_TOKEN", param_hint="--token")
    if not server.startswith(("http://", "https://")):
        raise typer.BadParameter(f"must be an http(s) URL (got {server!r})", param_hint="--server")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(message)s")
    options = WorkerOptions(
        server=server,
        token=token.strip(),
        database_url=database or Settings().database_url,
        camera_ids=tuple(cameras) if cameras else None,
        model=model,
        snapshot_every_s=snapshot_every_s,
    )
    try:
        if workers > 1:
            run_processes(options, workers, typer.echo)
        else:
            run_worker(options, echo=typer.echo)
    except WorkerError as exc:
        typer.echo(f"lỗi / error: {exc}", err=True)
        raise typer.Exit(2) from None
