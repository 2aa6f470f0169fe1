"""The `q` parser against a naive evaluator: random query trees are written out as text, parsed and
evaluated, and must agree with the tree evaluated directly on plain Python values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.api.ngsild.query_language import And, Or, QueryError, Range, Term, matches, parse

NAMES = ("a", "b", "speed", "name_2")
Scalar = int | str | bool


@dataclass(frozen=True)
class Cmp:
    name: str
    op: str | None
    value: Any = None  # scalar, ("list", [...]) or ("range", lo, hi)


@dataclass(frozen=True)
class Group:
    kind: str  # "and" / "or"
    parts: tuple[Any, ...]


scalars = st.one_of(
    st.integers(-5, 5), st.sampled_from(["x", "y", "a b", 'q"uote', "semi;colon"]), st.booleans()
)


def comparisons() -> st.SearchStrategy[Cmp]:
    name = st.sampled_from(NAMES)
    plain = st.builds(Cmp, name, st.sampled_from(["==", "!="]), scalars)
    ordered = st.builds(Cmp, name, st.sampled_from([">", ">=", "<", "<="]), st.integers(-5, 5))
    listed = st.builds(
        Cmp,
        name,
        st.sampled_from(["==", "!="]),
        st.lists(scalars, min_size=2, max_size=3).map(lambda v: ("list", v)),
    )
    ranged = st.builds(
        Cmp,
        name,
        st.sampled_from(["==", "!="]),
        st.tuples(st.integers(-5, 5), st.integers(-5, 5)).map(lambda r: ("range", *sorted(r))),
    )
    exists = st.builds(Cmp, name, st.none())
    return st.one_of(plain, ordered, listed, ranged, exists)


trees = st.recursive(
    comparisons(),
    lambda children: st.builds(
        Group, st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3).map(tuple)
    ),
    max_leaves=8,
)
entities = st.dictionaries(
    st.sampled_from(NAMES), st.one_of(scalars, st.lists(st.integers(-5, 5), max_size=3))
)


def text_of_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


def text(tree: Any) -> str:
    if isinstance(tree, Cmp):
        if tree.op is None:
            return tree.name
        if isinstance(tree.value, tuple) and tree.value[0] == "list":
            return tree.name + tree.op + ",".join(text_of_value(v) for v in tree.value[1])
        if isinstance(tree.value, tuple):
            return f"{tree.name}{tree.op}{tree.value[1]}..{tree.value[2]}"
        return tree.name + tree.op + text_of_value(tree.value)
    joiner = ";" if tree.kind == "and" else "|"
    return "(" + joiner.join(text(part) for part in tree.parts) + ")"


def same(stored: Any, wanted: Scalar) -> bool:
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    return type(stored) is type(wanted) and stored == wanted


def naive_one(stored: Any, tree: Cmp) -> bool:
    if tree.op in (">", ">=", "<", "<="):
        if isinstance(stored, bool) or not isinstance(stored, int):
            return False
        return {">": stored > tree.value, ">=": stored >= tree.value, "<": stored < tree.value}.get(
            tree.op, stored <= tree.value
        )
    if isinstance(tree.value, tuple) and tree.value[0] == "list":
        return any(same(stored, v) for v in tree.value[1])
    if isinstance(tree.value, tuple):
        return (
            isinstance(stored, int)
            and not isinstance(stored, bool)
            and tree.value[1] <= stored <= tree.value[2]
        )
    return same(stored, tree.value)


def naive(tree: Any, entity: dict[str, Any]) -> bool:
    if isinstance(tree, Group):
        results = [naive(part, entity) for part in tree.parts]
        return all(results) if tree.kind == "and" else any(results)
    if tree.name not in entity:
        return False
    if tree.op is None:
        return True
    stored = entity[tree.name]
    found = any(naive_one(one, tree) for one in (stored if isinstance(stored, list) else [stored]))
    return not found if tree.op == "!=" else found


def normalized(entity: dict[str, Any]) -> dict[str, Any]:
    return {name: {"type": "Property", "value": value} for name, value in entity.items()}


@settings(max_examples=400, deadline=None)
@given(trees, entities)
def test_parsed_queries_agree_with_the_naive_evaluator(tree: Any, entity: dict[str, Any]) -> None:
    assert matches(parse(text(tree)), normalized(entity)) == naive(tree, entity)


@given(st.text(max_size=40))
def test_any_text_parses_or_fails_with_a_query_error(raw: str) -> None:
    try:
        parse(raw)
    except QueryError as exc:
        assert str(exc).startswith("q: ")


def test_and_binds_tighter_than_or() -> None:
    tree = parse("a|b;c")
    assert isinstance(tree, Or)
    assert tree.parts[0] == Term(("a",))
    assert isinstance(tree.parts[1], And)
    assert not matches(tree, normalized({"b": 1}))
    assert matches(tree, normalized({"b": 1, "c": 2}))


def test_grammar_pieces() -> None:
    assert parse("speed==1..5") == Term(("speed",), (), "==", Range(1, 5))
    assert parse('address[city]=="Thủ Dầu Một"') == Term(("address",), ("city",), "==", "Thủ Dầu Một")
    assert parse("temperature.accuracy<0.5") == Term(("temperature", "accuracy"), (), "<", 0.5)
    entity = {
        "address": {"type": "Property", "value": {"city": "Thủ Dầu Một"}},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
        "seen": {"type": "Property", "value": "2026-11-23T08:00:00Z"},
        "temperature": {"type": "Property", "value": 30, "accuracy": {"type": "Property", "value": 0.2}},
        "plate": {"type": "Property", "value": "61A-123.45"},
    }
    assert matches(parse('address[city]=="Thủ Dầu Một"'), entity)
    assert matches(parse("owner==urn:ngsi-ld:Person:1"), entity)
    assert matches(parse("seen>2026-11-23T07:59:59Z;seen<2026-11-23T08:00:01+00:00"), entity)
    assert matches(parse("temperature.accuracy<0.5"), entity)
    assert matches(parse("plate~=^61A-\\d+"), entity)
    assert not matches(parse("plate!~=61A"), entity)
    assert matches(parse("(temperature>25;plate~=61A)|missing"), entity)


@pytest.mark.parametrize(
    "bad",
    ["", "a==", "==1", "a==bare word", "(a==1", "a==1)", "a~=(", "a[b==1", "a==1;;b==2", "a>1,2"],
)
def test_malformed_queries_name_the_problem(bad: str) -> None:
    with pytest.raises(QueryError, match=r"^q: "):
        parse(bad)
