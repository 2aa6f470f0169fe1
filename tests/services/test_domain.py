"""The domain as the kernel loads it: discovered by entry point, its migration matching its tables, its
translations complete in the three languages."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from cityops.core.domain import LANGUAGES, discover_domains
from cityops.core.kernel import Kernel
from cityops.services import schema
from cityops.services.domain import DOMAIN, FOLDER


def test_the_domain_is_discovered_with_its_router_and_indicators() -> None:
    (found,) = discover_domains(["services"])
    assert found is DOMAIN
    assert found.router is not None and found.simulator is not None
    assert {i.id for i in found.indicators} >= {"services.index766", "services.dossiers_overdue"}
    assert found.manifest["domain"] == "services"


def test_the_migration_creates_exactly_the_tables_of_the_schema(kernel: Kernel) -> None:
    ours = MetaData()
    for table in schema.metadata.sorted_tables:
        if table.name.startswith("services_"):
            table.to_metadata(ours)
    with kernel.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), ours)
    ours_only = [d for d in differences if "services_" in str(d)]
    assert ours_only == []


def test_every_text_is_translated_in_every_language() -> None:
    texts = {
        lang: json.loads((FOLDER / "translations" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in LANGUAGES
    }
    keys = set(texts["vi"])
    assert all(set(texts[lang]) == keys for lang in LANGUAGES)
    for indicator in DOMAIN.indicators:
        assert all(
            indicator.title[lang] != f"indicator.{indicator.id.partition('.')[2]}" for lang in LANGUAGES
        )
    for template in DOMAIN.rule_templates:
        assert all(
            template.title[lang] and not template.title[lang].startswith("rule.") for lang in LANGUAGES
        )


def test_a_demo_kernels_runtime_says_its_data_are_simulated(kernel: Kernel) -> None:
    from cityops.services.runtime import runtime_of

    kernel.simulated = True
    kernel.setup_domains()
    assert runtime_of(kernel).simulated is True
