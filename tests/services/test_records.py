"""A dossier's flat record: to and from the model without loss, and the facts the index reads from it are
the same whether taken one by one, on arrays, or from the model."""

from __future__ import annotations

import dataclasses

import numpy as np

from cityops.services.dossiers.classification import facts_of
from cityops.services.dossiers.records import dossier_of, facts_of_record, record_of
from cityops.services.importing.bulk import facts_for_new
from cityops.services.importing.fast_rows import parse_table
from cityops.services.importing.readers import Chunk
from cityops.services.index.accumulator_batch import FactsColumns


def records_of(chunks: list[Chunk]) -> list[tuple[object, ...]]:
    found = []
    for chunk in chunks:
        found += [r for r in parse_table(chunk.header, chunk.rows) if r is not None]
    return found


def test_a_record_goes_to_the_model_and_back_unchanged(demo_2025: list[Chunk]) -> None:
    for record in records_of(demo_2025)[::7]:
        assert record_of(dossier_of(record)) == record


def test_facts_of_a_record_are_the_models(demo_2025: list[Chunk]) -> None:
    for record in records_of(demo_2025)[::5]:
        assert facts_of_record(record) == facts_of(dossier_of(record))


def test_facts_on_arrays_equal_facts_one_by_one(demo_2025: list[Chunk]) -> None:
    records = records_of(demo_2025)
    assert any(r[17] is not None for r in records), "some dossiers have a supplement request"
    columns, others = facts_for_new(records)  # type: ignore[arg-type]
    one_by_one = [f for r in records if (f := facts_of_record(r)) is not None]
    expected_columns, expected_others = FactsColumns.from_facts(one_by_one)
    assert others == expected_others
    for field in dataclasses.fields(FactsColumns):
        got, expected = getattr(columns, field.name), getattr(expected_columns, field.name)
        if isinstance(got, np.ndarray):
            assert np.array_equal(got, expected), field.name
        else:
            assert got == expected, field.name
