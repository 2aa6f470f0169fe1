"""Accounts with a known password (`make_account`); `headers_for(role)`, any role or a device token, is
the shared one of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction

PASSWORD = "mật khẩu đủ dài 2026"  # Vietnamese letters on purpose: passwords are Unicode


@pytest.fixture
def make_account(kernel: Kernel) -> Callable[..., str]:
    """`make_account(username, role)` creates an account whose password is `PASSWORD`."""

    def make(username: str, role: Role = Role.OPERATOR, **profile: object) -> str:
        with write_transaction(kernel.engine) as conn:
            create_user(conn, NewUser(username, role, password=PASSWORD, **profile), "tests")
        return username

    return make
