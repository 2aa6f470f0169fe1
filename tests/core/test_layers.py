"""The layering rules of DESIGN §8, checked on the source: `core` imports nothing above it, domains
import `core` but never each other, and the API knows no domain by name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cityops.core.domain import DomainError, discover_domains

SRC = Path(__file__).resolve().parents[2] / "src" / "cityops"
DOMAINS = sorted(p.name for p in SRC.iterdir() if (p / "manifest.json").exists())


def cityops_imports(folder: Path) -> set[tuple[str, str]]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found.update((str(path.relative_to(SRC)), n) for n in names if n.startswith("cityops"))
    return found


def test_core_imports_only_core() -> None:
    offending = {(f, m) for f, m in cityops_imports(SRC / "core") if not m.startswith("cityops.core")}
    assert offending == set()


@pytest.mark.parametrize("domain", DOMAINS)
def test_domains_import_only_core_and_themselves(domain: str) -> None:
    # The kernel's settings (`cityops.config`) are the kernel's too: a domain's command reads the store URL.
    allowed = ("cityops.core", "cityops.config", f"cityops.{domain}")
    offending = {(f, m) for f, m in cityops_imports(SRC / domain) if not m.startswith(allowed)}
    assert offending == set()


def test_api_names_no_domain() -> None:
    offending = {
        (f, m) for f, m in cityops_imports(SRC / "api") if m.count(".") and m.split(".")[1] in DOMAINS
    }
    assert offending == set()


def test_every_domain_folder_is_installed_and_has_translations() -> None:
    assert sorted(d.name for d in discover_domains()) == DOMAINS
    for domain in DOMAINS:
        for lang in ("vi", "en", "ja"):
            assert (SRC / domain / "translations" / f"{lang}.json").exists()


def test_unknown_domain_in_configuration_is_refused() -> None:
    with pytest.raises(DomainError, match="unknown domain"):
        discover_domains(["weather"])
