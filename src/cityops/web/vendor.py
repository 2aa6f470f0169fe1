"""Copies the browser libraries the dashboard serves from npm's `node_modules` into `static/vendor`.

Set-up runs it (`make setup`): `python -m cityops.web.vendor [--node-modules DIR] [--dest DIR]`.
The page imports them as ES modules from `/static/vendor/<package>/<file>`; MapLibre finds its worker
next to its own module, so both must sit in the same folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"


@dataclass(frozen=True)
class VendorFile:
    package: str
    path: str  # inside the package

    @property
    def target(self) -> str:
        return f"{self.package}/{Path(self.path).name}"


FILES = (
    VendorFile("maplibre-gl", "dist/maplibre-gl.mjs"),
    VendorFile("maplibre-gl", "dist/maplibre-gl-worker.mjs"),
    VendorFile("maplibre-gl", "dist/maplibre-gl.css"),
    VendorFile("maplibre-gl", "LICENSE.txt"),
    VendorFile("echarts", "dist/echarts.esm.min.mjs"),
    VendorFile("echarts", "LICENSE"),
)


class VendorError(RuntimeError):
    pass


def copy_vendor_files(node_modules: Path, dest: Path = VENDOR_DIR) -> dict[str, str]:
    """Copies every file of `FILES`; returns {package: version}. Checks all sources before copying any."""
    missing = [f"{f.package}/{f.path}" for f in FILES if not (node_modules / f.package / f.path).is_file()]
    if missing:
        raise VendorError(f"not found in {node_modules}: {', '.join(missing)} (run `npm ci` first)")
    versions = {}
    for file in FILES:
        target = dest / file.target
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / file.package / file.path, target)
        manifest = json.loads((node_modules / file.package / "package.json").read_text(encoding="utf-8"))
        versions[file.package] = str(manifest["version"])
    (dest / "versions.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    return versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--node-modules", type=Path, default=Path("node_modules"))
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR)
    args = parser.parse_args(argv)
    try:
        versions = copy_vendor_files(args.node_modules, args.dest)
    except VendorError as exc:
        print(f"cityops.web.vendor: {exc}", file=sys.stderr)
        return 2
    listed = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
    print(f"Đã chép thư viện giao diện / copied browser libraries to {args.dest}: {listed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
