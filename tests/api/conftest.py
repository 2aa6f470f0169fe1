"""Signing in as any role: `headers_for(role)` makes an account (token-only, so no password hashing) or a
device token and returns the `Authorization` header that acts as it."""

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
        name = f"{role.value.replace('_', '-')}-{next(serial)}"
        with kernel.engine.begin() as conn:
            if role is Role.DEVICE:
                issued = issue_token(conn, name, "device", None, actor="tests")
            else:
                create_user(
                    conn, NewUser(name, role, agency_code=agency_code, area_codes=area_codes), "tests"
                )
                issued = issue_token(conn, "tests", "user", name, actor="tests")
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


PASSWORD = "mật khẩu đủ dài 2026"  # Vietnamese letters on purpose: passwords are Unicode


@pytest.fixture
def make_account(kernel: Kernel) -> Callable[..., str]:
    """`make_account(username, role)` creates an account whose password is `PASSWORD`."""

    def make(username: str, role: Role = Role.OPERATOR, **profile: object) -> str:
        with kernel.engine.begin() as conn:
            create_user(conn, NewUser(username, role, password=PASSWORD, **profile), "tests")
        return username

    return make
