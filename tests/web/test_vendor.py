"""Set-up copies the browser libraries from node_modules into static/vendor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cityops.web import vendor


def test_copies_every_file_and_records_versions(node_modules: Path, tmp_path: Path) -> None:
    versions = vendor.copy_vendor_files(node_modules, tmp_path)
    for file in vendor.FILES:
        assert (tmp_path / file.target).read_bytes() == (node_modules / file.package / file.path).read_bytes()
    for package, version in versions.items():
        assert json.loads((node_modules / package / "package.json").read_text("utf-8"))["version"] == version
    assert json.loads((tmp_path / "versions.json").read_text("utf-8")) == versions
    assert versions["maplibre-gl"].split(".")[0] == "6"
    assert versions["echarts"].split(".")[0] == "6"


def test_maplibre_worker_sits_beside_its_module() -> None:
    # MapLibre loads its worker from the folder of its own module (import.meta.url).
    targets = {file.target for file in vendor.FILES}
    assert {"maplibre-gl/maplibre-gl.mjs", "maplibre-gl/maplibre-gl-worker.mjs"} <= targets


def test_missing_package_is_named_and_nothing_is_copied(node_modules: Path, tmp_path: Path) -> None:
    partial = tmp_path / "node_modules"
    partial.mkdir()
    (partial / "echarts").symlink_to(node_modules / "echarts")
    dest = tmp_path / "vendor"
    with pytest.raises(vendor.VendorError, match=re.escape("maplibre-gl/dist/maplibre-gl.mjs")):
        vendor.copy_vendor_files(partial, dest)
    assert not dest.exists()


def test_command_line_reports_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = vendor.main(["--node-modules", str(tmp_path / "absent"), "--dest", str(tmp_path / "vendor")])
    assert code == 2
    assert "npm ci" in capsys.readouterr().err
