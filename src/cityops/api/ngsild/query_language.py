"""The NGSI-LD query language (`q`, ETSI GS CIM 009 clause 4.9): a parser to a small tree, and its
evaluation against an entity in normalized form.

    Query    = Or
    Or       = And *("|" And)
    And      = Factor *(";" Factor)             ; ";" (AND) binds tighter than "|" (OR)
    Factor   = "(" Or ")" / Term
    Term     = Attribute [Operator Value]       ; an Attribute alone: the attribute exists
    Attribute= Name *("." Name) *("[" Name "]") ; a.b: sub-attribute b of a; a[b]: member b of a's value
    Operator = "==" / "!=" / ">=" / ">" / "<=" / "<" / "~=" / "!~="
    Value    = quoted string / number / true / false / dateTime / date / time / URI,
               a list "v1,v2,..." or a range "v1..v2" after == and !=, a regular expression after ~= and !~=

The target of a term is a Property's `value` or a Relationship's `object` (or a sub-attribute's). An
array target matches when one of its elements does. A missing target makes every term false except the
negations of a list, range or pattern, which stay false too (nothing to compare).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

MAX_LENGTH = 4000
MAX_DEPTH = 32
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\"]+")
OPERATORS = ("==", "!=", ">=", "<=", "!~=", "~=", ">", "<")
ORDERING = frozenset((">", ">=", "<", "<="))

Scalar = str | float | int | bool | datetime | date | time


class QueryError(ValueError):
    """`q` is not in the grammar: the message says where and why."""


@dataclass(frozen=True, slots=True)
class Range:
    low: Scalar
    high: Scalar


@dataclass(frozen=True, slots=True)
class Term:
    path: tuple[str, ...]  # attribute, then sub-attributes
    members: tuple[str, ...] = ()  # members of the target value ([..])
    operator: str | None = None  # None: existence
    value: Scalar | tuple[Scalar, ...] | Range | re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]


Node = Term | And | Or


def attribute_names(node: Node) -> set[str]:
    """The (top-level) attributes a query reads."""
    if isinstance(node, Term):
        return {node.path[0]}
    return set().union(*(attribute_names(part) for part in node.parts))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, why: str) -> QueryError:
        return QueryError(f"q: {why} at position {self.at} of {self.text!r}")

    def peek(self, token: str) -> bool:
        return self.text.startswith(token, self.at)

    def parse(self) -> Node:
        if not self.text:
            raise self.fail("empty query")
        node = self.disjunction(0)
        if self.at != len(self.text):
            raise self.fail(f"unexpected {self.text[self.at]!r}")
        return node

    def disjunction(self, depth: int) -> Node:
        parts = [self.conjunction(depth)]
        while self.peek("|"):
            self.at += 1
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self, depth: int) -> Node:
        parts = [self.factor(depth)]
        while self.peek(";"):
            self.at += 1
            parts.append(self.factor(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def factor(self, depth: int) -> Node:
        if self.peek("("):
            if depth >= MAX_DEPTH:
                raise self.fail(f"more than {MAX_DEPTH} nested parentheses")
            self.at += 1
            node = self.disjunction(depth + 1)
            if not self.peek(")"):
                raise self.fail("expected ')'")
            self.at += 1
            return node
        return self.term()

    def name(self) -> str:
        match = NAME.match(self.text, self.at)
        if match is None:
            raise self.fail("expected an attribute name")
        self.at = match.end()
        return match.group()

    def term(self) -> Term:
        path = [self.name()]
        while self.peek("."):
            self.at += 1
            path.append(self.name())
        members = []
        while self.peek("["):
            self.at += 1
            members.append(self.name())
            if not self.peek("]"):
                raise self.fail("expected ']'")
            self.at += 1
        operator = next((op for op in OPERATORS if self.peek(op)), None)
        if operator is None:
            return Term(tuple(path), tuple(members))
        self.at += len(operator)
        if operator in ("~=", "!~="):
            return Term(tuple(path), tuple(members), operator, self.pattern())
        first = self.value()
        if operator in ORDERING:
            return Term(tuple(path), tuple(members), operator, first)
        if self.peek(".."):
            self.at += 2
            return Term(tuple(path), tuple(members), operator, Range(first, self.value()))
        values = [first]
        while self.peek(","):
            self.at += 1
            values.append(self.value())
        return Term(tuple(path), tuple(members), operator, first if len(values) == 1 else tuple(values))

    def pattern(self) -> re.Pattern[str]:
        """A regular expression runs to the next ';', '|' or unmatched ')' outside its own brackets."""
        depth = 0
        start = self.at
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\\":
                self.at += 2
                continue
            if char in ";|" and depth == 0:
                break
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            self.at += 1
        source = self.text[start : self.at]
        if not source:
            raise self.fail("expected a regular expression")
        try:
            return re.compile(source)
        except re.error as exc:
            raise self.fail(f"bad regular expression ({exc})") from None

    def value(self) -> Scalar:
        if self.peek('"'):
            return self.quoted()
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in ",;|)" and not self.peek(".."):
            self.at += 1
        atom = self.text[start : self.at]
        if not atom:
            raise self.fail("expected a value")
        return self.scalar(atom)

    def quoted(self) -> str:
        self.at += 1
        out = []
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\\" and self.at + 1 < len(self.text) and self.text[self.at + 1] in '"\\':
                out.append(self.text[self.at + 1])
                self.at += 2
                continue
            if char == '"':
                self.at += 1
                return "".join(out)
            out.append(char)
            self.at += 1
        raise self.fail("unterminated string")

    def scalar(self, atom: str) -> Scalar:
        if atom in ("true", "false"):
            return atom == "true"
        if NUMBER.fullmatch(atom):
            number = float(atom)
            return int(atom) if number.is_integer() and re.fullmatch(r"-?\d+", atom) else number
        if DATETIME.fullmatch(atom):
            moment = datetime.fromisoformat(atom.replace("Z", "+00:00"))
            return moment
        if DATE.fullmatch(atom):
            return date.fromisoformat(atom)
        if TIME.fullmatch(atom):
            return time.fromisoformat(atom.rstrip("Z"))
        if URI.fullmatch(atom):
            return atom
        raise self.fail(f'{atom!r} is not a value (quote strings with ")')


def parse(text: str) -> Node:
    if len(text) > MAX_LENGTH:
        raise QueryError(f"q: longer than {MAX_LENGTH} characters")
    try:
        return _Parser(text).parse()
    except ValueError as exc:  # a date-time or date out of range
        if isinstance(exc, QueryError):
            raise
        raise QueryError(f"q: {exc}") from None


# --- evaluation ------------------------------------------------------------------------------------
_MISSING = object()


def _target(entity: dict[str, Any], term: Term) -> Any:
    attribute: Any = entity
    for name in term.path:
        if not isinstance(attribute, dict) or name not in attribute:
            return _MISSING
        attribute = attribute[name]
        if isinstance(attribute, list):  # several instances (datasetId): the first one
            attribute = attribute[0] if attribute else _MISSING
    if not isinstance(attribute, dict):
        # observedAt, unitCode...: a member of the attribute, not an attribute
        target = attribute
    elif attribute.get("type") == "Relationship":
        target = attribute.get("object", _MISSING)
    elif "value" in attribute:
        target = attribute["value"]
    else:
        return _MISSING
    for member in term.members:
        if not isinstance(target, dict) or member not in target:
            return _MISSING
        target = target[member]
    return target


def _comparable(stored: Any, wanted: Scalar) -> tuple[Any, Any] | None:
    """The two sides in one comparable kind, or None when they cannot be compared."""
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return (stored, wanted) if isinstance(stored, bool) and isinstance(wanted, bool) else None
    if isinstance(wanted, int | float):
        return (stored, wanted) if isinstance(stored, int | float) else None
    if isinstance(wanted, str):
        return (stored, wanted) if isinstance(stored, str) else None
    if not isinstance(stored, str):
        return None
    try:
        if isinstance(wanted, datetime):
            parsed = datetime.fromisoformat(stored.replace("Z", "+00:00"))
            if (parsed.tzinfo is None) != (wanted.tzinfo is None):
                return None
            return parsed, wanted
        if isinstance(wanted, date):
            return date.fromisoformat(stored), wanted
        return time.fromisoformat(stored.rstrip("Z")), wanted
    except ValueError:
        return None


def _compare(stored: Any, operator: str, wanted: Scalar) -> bool:
    pair = _comparable(stored, wanted)
    if pair is None:
        return False
    left, right = pair
    if operator == "==":
        return bool(left == right)
    if operator == ">":
        return bool(left > right)
    if operator == ">=":
        return bool(left >= right)
    if operator == "<":
        return bool(left < right)
    return bool(left <= right)


def _equal(stored: Any, wanted: Scalar | tuple[Scalar, ...] | Range) -> bool:
    if isinstance(wanted, Range):
        return _compare(stored, ">=", wanted.low) and _compare(stored, "<=", wanted.high)
    if isinstance(wanted, tuple):
        return any(_compare(stored, "==", one) for one in wanted)
    return _compare(stored, "==", wanted)


def _matches_one(stored: Any, term: Term) -> bool:
    operator, wanted = term.operator, term.value
    if isinstance(wanted, re.Pattern):
        return isinstance(stored, str) and wanted.search(stored) is not None
    assert operator is not None and wanted is not None
    if operator in ("==", "!="):
        return _equal(stored, wanted)
    assert not isinstance(wanted, tuple | Range)
    return _compare(stored, operator, wanted)


def matches(node: Node, entity: dict[str, Any]) -> bool:
    """Whether `entity` (normalized form) satisfies the query."""
    if isinstance(node, And):
        return all(matches(part, entity) for part in node.parts)
    if isinstance(node, Or):
        return any(matches(part, entity) for part in node.parts)
    target = _target(entity, node)
    if target is _MISSING:
        return False
    if node.operator is None:
        return True
    candidates = target if isinstance(target, list) else [target]
    found = any(_matches_one(one, node) for one in candidates)
    return not found if node.operator in ("!=", "!~=") else found
