"""Text of bounded length for request fields and parameters: every string the API takes has a cap
(`maxLength` in the OpenAPI document; longer is a 422 naming the field). Use these where no tighter cap
or pattern fits; docs/configuration.md lists them."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Key = Annotated[str, StringConstraints(max_length=100)]
"""Ids, codes, slugs, usernames, language tags, choices sent as text."""
Label = Annotated[str, StringConstraints(max_length=300)]
"""Names, titles, units, sources, secrets."""
Uri = Annotated[str, StringConstraints(max_length=2048)]
"""URIs and URNs (NGSI-LD ids)."""
Prose = Annotated[str, StringConstraints(max_length=5000)]
"""Free text: descriptions, notes."""
