"""Login rate limiting: failed logins are counted per account and per client address; past the limit a
login gets 429 with Retry-After — even with the right password — and a success clears its account's count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.access.accounts import AccessSettings
from cityops.core.kernel import Kernel

PASSWORD = "mật khẩu đủ dài 2026"
PER_ACCOUNT, PER_ADDRESS = 3, 5


@pytest.fixture
def limited(kernel: Kernel, settings: Settings) -> Iterator[TestClient]:
    access = AccessSettings(
        login_limit_per_account=f"{PER_ACCOUNT}/minute", login_limit_per_address=f"{PER_ADDRESS}/minute"
    )
    with TestClient(create_app(kernel, settings.model_copy(update={"access": access}))) as client:
        yield client


def attempt(client: TestClient, username: str, password: str = "wrong password!") -> int:
    return client.post("/api/auth/login", json={"username": username, "password": password}).status_code


def test_an_account_is_locked_after_its_failures_even_for_the_right_password(
    limited: TestClient, make_account: Callable[..., str]
) -> None:
    make_account("target")
    make_account("bystander")
    assert [attempt(limited, "target") for _ in range(PER_ACCOUNT)] == [401] * PER_ACCOUNT
    locked = limited.post("/api/auth/login", json={"username": "TARGET", "password": PASSWORD})
    assert locked.status_code == 429
    retry_after = int(locked.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert locked.json()["detail"]["code"] == "too_many_attempts"
    assert locked.json()["detail"]["retry_after"] == retry_after
    assert attempt(limited, "bystander", PASSWORD) == 200  # the address is still under its own limit


def test_an_address_is_locked_after_failures_spread_over_accounts(
    limited: TestClient, make_account: Callable[..., str]
) -> None:
    make_account("real.user")
    statuses = [attempt(limited, f"guess-{n}") for n in range(PER_ADDRESS)]
    assert statuses == [401] * PER_ADDRESS
    locked = limited.post("/api/auth/login", json={"username": "real.user", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1


def test_a_success_clears_the_accounts_count(limited: TestClient, make_account: Callable[..., str]) -> None:
    make_account("forgetful")
    statuses = []
    for _ in range(2):
        statuses += [attempt(limited, "forgetful") for _ in range(PER_ACCOUNT - 1)]
        statuses.append(attempt(limited, "forgetful", PASSWORD))
    assert statuses == [401, 401, 200, 401, 401, 200]


def test_a_limit_that_is_not_a_rate_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="login_limit_per_account"):
        AccessSettings(login_limit_per_account="five a minute")
