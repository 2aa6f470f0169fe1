"""JSON-LD `@context` handling for NGSI-LD requests: the core context shipped with the package (never
fetched), user contexts given inline in the body or by a `Link` header, and the mapping of terms to the
names the store keeps.

The store keeps short names (`Camera`, `activeUsers`). A short name stands for the IRI
`https://uri.etsi.org/ngsi-ld/default-context/<name>` — the core context's `@vocab` — so clients using
the core context alone see the same short names; a user context that maps a term onto a default-context
IRI is understood, and any other IRI is kept as the attribute name itself. Remote contexts other than
the core context are not fetched (no network at run time): a request naming one gets 503
LdContextNotAvailable.

This is a subset of JSON-LD 1.1 context processing: term definitions (string IRIs, compact IRIs,
`{"@id": ...}`) and `@vocab`; no scoped contexts, no `@protected`, no `@import`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import orjson

from cityops.api.ngsild.errors import NgsiError, bad_data

CORE_FILE = "ngsi-ld-core-context-v1.8.jsonld"
CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
# Every published version of the core context URL is taken as the core context.
CORE_URLS = re.compile(r"^https://uri\.etsi\.org/ngsi-ld/v1/ngsi-ld-core-context(-v1\.\d+)?\.jsonld$")
LOCAL_CORE_PATH = "/ngsi-ld/v1/jsonldContexts/core"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
LINK_RELATION = "http://www.w3.org/ns/json-ld#context"
LINK = re.compile(r'^\s*<([^>]*)>\s*((?:;\s*[a-zA-Z]+\s*=\s*"[^"]*"\s*)*)$')
MAX_CONTEXT_TERMS = 2000


@cache
def core_document() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(files("cityops.api.ngsild").joinpath(CORE_FILE).read_bytes())
    return document


def core_terms() -> dict[str, Any]:
    terms: dict[str, Any] = core_document()["@context"]
    return terms


def _iri_of(definition: Any) -> str | None:
    if isinstance(definition, str):
        return definition
    if isinstance(definition, dict) and isinstance(definition.get("@id"), str):
        return str(definition["@id"])
    return None


@dataclass
class Context:
    """An active context: term -> IRI, its `@vocab`, and the user's part (echoed back in answers)."""

    terms: dict[str, str] = field(default_factory=dict)
    vocab: str = DEFAULT_VOCAB
    user: list[Any] = field(default_factory=list)
    _inverse: dict[str, str] | None = None

    @classmethod
    def core(cls) -> Context:
        return cls.build([])

    @classmethod
    def build(cls, user: list[Any]) -> Context:
        context = cls(user=user)
        context._merge(core_terms())
        for item in user:
            if isinstance(item, str):
                if CORE_URLS.match(item) or item.endswith(LOCAL_CORE_PATH):
                    continue
                raise NgsiError(
                    "LdContextNotAvailable",
                    f"@context {item!r} cannot be fetched (cityops fetches no remote context); "
                    "give the context inline in the body (application/ld+json) instead",
                )
            if isinstance(item, dict):
                context._merge(item.get("@context", item) if "@context" in item else item)
            else:
                raise bad_data("@context: each entry must be a URL string or an object")
        return context

    def _merge(self, definitions: Any) -> None:
        if isinstance(definitions, list):
            for item in definitions:
                if isinstance(item, dict):
                    self._merge(item)
                elif not (isinstance(item, str) and CORE_URLS.match(item)):
                    raise NgsiError("LdContextNotAvailable", f"@context {item!r} cannot be fetched")
            return
        if not isinstance(definitions, dict):
            raise bad_data("@context: must be an object, a URL or a list of them")
        if len(definitions) > MAX_CONTEXT_TERMS:
            raise bad_data(f"@context: more than {MAX_CONTEXT_TERMS} terms")
        for term, definition in definitions.items():
            if term == "@vocab":
                if isinstance(definition, str):
                    self.vocab = definition
                continue
            if term.startswith("@"):
                continue
            iri = _iri_of(definition)
            if iri is not None:
                self.terms[term] = iri

    # --- expansion and compaction ------------------------------------------------------------------
    def expand(self, term: str) -> str:
        iri = self.terms.get(term)
        if iri is None:
            if ":" in term:
                return self._expand_compact(term)
            return self.vocab + term
        return self._expand_compact(iri) if ":" in iri else self.vocab + iri

    def _expand_compact(self, value: str) -> str:
        prefix, _, suffix = value.partition(":")
        if suffix.startswith("//") or prefix not in self.terms:
            return value
        return self.terms[prefix] + suffix

    def compact(self, iri: str) -> str:
        if self._inverse is None:
            self._inverse = {}
            for term in self.terms:
                if term not in ("id", "type"):
                    self._inverse.setdefault(self.expand(term), term)
        known = self._inverse.get(iri)
        if known is not None:
            return known
        if iri.startswith(self.vocab):
            return iri[len(self.vocab) :]
        return iri

    def stored_name(self, term: str) -> str:
        """The name the store keeps for a term of this context."""
        iri = self.expand(term)
        core = CORE_NAMES.get(iri)
        if core is not None:
            return core
        if iri.startswith(DEFAULT_VOCAB):
            return iri[len(DEFAULT_VOCAB) :]
        return iri

    def term_for(self, stored: str) -> str:
        """The term this context gives a stored name."""
        if stored in CORE_IRIS or (not self.user and ":" not in stored):
            return stored
        iri = stored if "://" in stored or stored.startswith("urn:") else DEFAULT_VOCAB + stored
        return self.compact(iri)

    @property
    def is_core(self) -> bool:
        return not self.user


def _core_iris() -> dict[str, str]:
    base = Context(terms={}, vocab=DEFAULT_VOCAB)
    base._merge(core_terms())
    return {base.expand(term): term for term in base.terms if term not in ("id", "type")}


CORE_NAMES = _core_iris()  # core IRI -> core term
CORE_IRIS = frozenset(CORE_NAMES.values())


def parse_link(header: str | None) -> str | None:
    """The context URL of a `Link: <url>; rel="http://www.w3.org/ns/json-ld#context"` header."""
    if not header:
        return None
    match = LINK.match(header)
    if match is None:
        raise bad_data('Link header: expected <url>; rel="http://www.w3.org/ns/json-ld#context"')
    params = dict(re.findall(r';\s*([a-zA-Z]+)\s*=\s*"([^"]*)"', match.group(2)))
    if params.get("rel") != LINK_RELATION:
        raise bad_data(f'Link header: rel must be "{LINK_RELATION}"')
    return match.group(1)


def link_header(context: Context) -> str:
    """The `Link` header that answers in application/json carry (the user's context URL when it gave one)."""
    url = next((item for item in context.user if isinstance(item, str)), CORE_URL)
    return f'<{url}>; rel="{LINK_RELATION}"; type="application/ld+json"'


def body_context(context: Context) -> list[Any] | str:
    """The `@context` member of answers in application/ld+json."""
    if not context.user:
        return CORE_URL
    return [*context.user, CORE_URL]
