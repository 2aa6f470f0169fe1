"""Economy tests: `headers_for(role)` gives a bearer token of a new account with that role."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import pytest

from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.access.tokens import issue_token
from cityops.core.kernel import Kernel

HeadersFor = Callable[..., dict[str, str]]


@pytest.fixture
def headers_for(kernel: Kernel) -> HeadersFor:
    serial = count(1)

    def make(role: Role, agency_code: str | None = None, area_codes: tuple[str, ...] = ()) -> dict[str, str]:
        name = f"economy-{role.value.replace('_', '-')}-{next(serial)}"
        with kernel.engine.begin() as conn:
            create_user(conn, NewUser(name, role, agency_code=agency_code, area_codes=area_codes), "tests")
            issued = issue_token(conn, "tests", "user", name, actor="tests")
        return {"Authorization": f"Bearer {issued.secret}"}

    return make
