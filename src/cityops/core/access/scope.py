"""What an agency officer may see and act on: the incidents and reports of its agency, and those in its
areas (an area counts with every area below it, in either scheme).

Routers ask `principal.scope`: None means unrestricted; otherwise filter list queries with
`scope.where(...)` and check a single object with `scope.allows(...)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_

from cityops.core.rules.scope import AreaTree


@dataclass(frozen=True, slots=True)
class Scope:
    agency_code: str | None
    areas: frozenset[str]  # the officer's areas and every area below them

    @classmethod
    def of(cls, agency_code: str | None, area_codes: Iterable[str], tree: AreaTree) -> Scope:
        below: set[str] = set()
        for code in area_codes:
            below |= tree.descendants(code)
        return cls(agency_code, frozenset(below))

    def allows(self, agency: str | None, *area_codes: str | None) -> bool:
        """Whether an object assigned to `agency` and located in `area_codes` is in scope."""
        if self.agency_code is not None and agency == self.agency_code:
            return True
        return any(code in self.areas for code in area_codes if code is not None)

    def where(
        self, agency: ColumnElement[str | None], *areas: ColumnElement[str | None]
    ) -> ColumnElement[bool]:
        """A WHERE clause keeping the rows `allows` would accept."""
        clauses: list[ColumnElement[bool]] = []
        if self.agency_code is not None:
            clauses.append(agency == self.agency_code)
        if self.areas:
            codes = sorted(self.areas)
            clauses.extend(column.in_(codes) for column in areas)
        return or_(*clauses) if clauses else false()
