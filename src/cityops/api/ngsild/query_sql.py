"""A `q` query narrowed in SQL before it is evaluated exactly in the process (query_language.matches):
each term becomes a condition that keeps at least every entity the term can match (never fewer), so the
process looks at the candidates only.

Metrics are narrowed on `latest`; plain attributes through the JSON functions of the database on the
`attributes` column (SQLite's json_extract, PostgreSQL's json operators). A term whose meaning SQL cannot
follow exactly (patterns, negations, dates, sub-attributes) is left to the process (TRUE here)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Numeric,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement as Column

from cityops.api.ngsild.query_language import And, Node, Or, Range, Term
from cityops.core.kernel import Kernel
from cityops.core.schema import entities, latest

NUMBER = (int, float)
ATTRIBUTE_TYPES = ("Property", "Relationship", "GeoProperty", "LanguageProperty")
MARGIN = Decimal("1e-12")  # relative: numbers within it of the wanted one are left to the process
TINY = Decimal("1e-300")


def _compare(column: Column[Any], operator: str, wanted: Any) -> ColumnElement[bool]:
    if operator == "==":
        if isinstance(wanted, Range):
            between: ColumnElement[bool] = column.between(wanted.low, wanted.high)
            return between
        if isinstance(wanted, tuple):
            within: ColumnElement[bool] = column.in_(wanted)
            return within
        equal: ColumnElement[bool] = column == wanted
        return equal
    comparisons: dict[str, ColumnElement[bool]] = {
        ">": column > wanted,
        ">=": column >= wanted,
        "<": column < wanted,
        "<=": column <= wanted,
    }
    return comparisons[operator]


def _plain(values: Any) -> bool:
    """Numbers and strings only: SQL compares them as the process does (bools and dates it cannot)."""
    items = (
        (values.low, values.high)
        if isinstance(values, Range)
        else values
        if isinstance(values, tuple)
        else (values,)
    )
    return all(isinstance(v, str) or (isinstance(v, NUMBER) and not isinstance(v, bool)) for v in items)


def _metric_condition(kernel: Kernel, term: Term) -> ColumnElement[bool] | None:
    """None when no type has a metric of that name."""
    having = {
        entity_type: metric_id
        for entity_type in kernel.registry.types
        if (metric_id := kernel.registry.metric_id(entity_type, term.path[0])) is not None
    }
    if not having:
        return None
    wanted = term.value
    numbers = (
        wanted
        if isinstance(wanted, tuple)
        else (wanted.low, wanted.high)
        if isinstance(wanted, Range)
        else (wanted,)
    )
    if (
        term.members
        or len(term.path) > 1
        or term.operator in ("!=", "~=", "!~=")
        or not all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in numbers if term.operator)
    ):
        return true()
    here = [latest.c.entity_id == entities.c.id, latest.c.metric_id.in_(list(having.values()))]
    if term.operator is not None:
        here.append(_compare(latest.c.value, term.operator, wanted))
    # Entities of other types, or keeping an attribute of that name, are left to the process.
    others = entities.c.type.not_in(list(having))
    attribute = (
        func.json_type(entities.c.attributes, "$." + json.dumps(term.path[0])).is_not(None)
        if kernel.engine.dialect.name == "sqlite"
        else _pg_path(term.path[0]).is_not(None)
    )
    return or_(exists(select(literal(1)).where(*here)), others, attribute)


def _attribute_condition(term: Term) -> ColumnElement[bool]:
    if term.path[0] in ("name", "location") or len(term.path) > 1:
        return true()
    base = "$." + json.dumps(term.path[0])
    present = func.json_type(entities.c.attributes, base).is_not(None)
    if term.operator is None and not term.members:
        return present
    if term.operator is None or term.operator in ("!=", "~=", "!~=") or not _plain(term.value):
        return present
    members = "".join("." + json.dumps(m) for m in term.members)
    normalized = func.json_extract(entities.c.attributes, base + ".type").in_(ATTRIBUTE_TYPES)
    value = func.coalesce(
        func.json_extract(entities.c.attributes, base + ".value" + members),
        func.json_extract(entities.c.attributes, base + ".object" + members),
    )
    plain = func.json_extract(entities.c.attributes, base + members)
    target = func.iif(normalized, value, plain)
    # An array target matches when one element does: the process decides those.
    array = func.json_type(entities.c.attributes, base + members).__eq__("array") | func.json_type(
        entities.c.attributes, base + ".value" + members
    ).__eq__("array")
    return or_(array, _compare(target, term.operator, term.value))


def narrowing(kernel: Kernel, node: Node) -> ColumnElement[bool]:
    if isinstance(node, And):
        return and_(*(narrowing(kernel, part) for part in node.parts))
    if isinstance(node, Or):
        return or_(*(narrowing(kernel, part) for part in node.parts))
    metric = _metric_condition(kernel, node)
    if metric is not None:
        return metric
    if kernel.engine.dialect.name == "postgresql":
        return _pg_attribute_condition(node)
    return _attribute_condition(node)


# --- PostgreSQL: the `json` column through its operators ---------------------------------------------
def _pg_path(*keys: str) -> ColumnElement[Any]:
    path: ColumnElement[Any] = func.json_extract_path(entities.c.attributes, *keys, type_=JSON)
    return path


def _pg_text(json_value: ColumnElement[Any]) -> ColumnElement[str]:
    """A JSON scalar as text (a string without its quotes)."""
    text: ColumnElement[str] = json_value.op("#>>", return_type=Text)(literal_column("'{}'"))
    return text


def _pg_scalar(target: ColumnElement[Any], operator: str, wanted: Any) -> ColumnElement[bool]:
    """Keeps every stored scalar that `query_language._compare` can match: numbers with numbers (exact
    decimals, with a margin for the process's binary floats), strings with strings (code point order, the
    "C" collation), nothing else."""
    if isinstance(wanted, Range):
        return and_(_pg_scalar(target, ">=", wanted.low), _pg_scalar(target, "<=", wanted.high))
    if isinstance(wanted, tuple):
        return or_(*(_pg_scalar(target, "==", one) for one in wanted))
    kind = func.json_typeof(target)
    if isinstance(wanted, str):
        text = _pg_text(target).collate("C")
        return and_(kind == "string", _compare(text, operator, wanted))
    number = cast(_pg_text(target), Numeric)
    if not math.isfinite(wanted):
        return kind == "number"
    exact = Decimal(repr(wanted)) if isinstance(wanted, float) else Decimal(wanted)
    margin = abs(exact) * MARGIN + TINY
    low, high = literal(exact - margin, Numeric), literal(exact + margin, Numeric)
    bounds: dict[str, ColumnElement[bool]] = {
        "==": number.between(low, high),
        ">": number >= low,
        ">=": number >= low,
        "<": number <= high,
        "<=": number <= high,
    }
    return and_(kind == "number", bounds[operator])


def _pg_attribute_condition(term: Term) -> ColumnElement[bool]:
    """What `query_language._target` reads, in SQL: a normalized attribute's `value` (a Relationship's
    `object`), else the plain value, then its members; arrays and several instances are left to the
    process."""
    if term.path[0] in ("name", "location") or len(term.path) > 1:
        return true()
    name = term.path[0]
    attribute = _pg_path(name)
    present: ColumnElement[bool] = attribute.is_not(None)
    if term.operator is None or term.operator in ("!=", "~=", "!~=") or not _plain(term.value):
        return present
    is_object = func.json_typeof(attribute) == "object"
    relationship = func.json_extract_path_text(entities.c.attributes, name, "type") == "Relationship"
    target = case(
        (and_(is_object, relationship), _pg_path(name, "object", *term.members)),
        (is_object, _pg_path(name, "value", *term.members)),
        else_=_pg_path(name, *term.members),
    )
    return or_(
        func.json_typeof(attribute) == "array",
        func.json_typeof(target) == "array",
        _pg_scalar(target, term.operator, term.value),
    )
