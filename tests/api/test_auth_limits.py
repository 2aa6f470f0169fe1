"""Login rate limiting: failed logins are counted per (account, address) pair and per client address;
past the limit a login gets 429 with Retry-After — even with the right password — and a success clears
its pair's count. Failures elsewhere never lock an administrator out, and `cityops users unlock NAME`
lets a locked account in again, reaching the running server from another process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from cityops.api.app import create_app
from cityops.cli import app as cli
from cityops.config import Settings
from cityops.core.access.accounts import AccessSettings, Role
from cityops.core.kernel import Kernel

from ..conftest import wait_for

PASSWORD = "mật khẩu đủ dài 2026"
PER_ACCOUNT, PER_ADDRESS = 3, 5


@pytest.fixture
def limited_app(kernel: Kernel, settings: Settings) -> FastAPI:
    access = AccessSettings(
        login_limit_per_account=f"{PER_ACCOUNT}/minute", login_limit_per_address=f"{PER_ADDRESS}/minute"
    )
    return create_app(kernel, settings.model_copy(update={"access": access}))


@pytest.fixture
def limited(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(limited_app) as client:
        yield client


def from_address(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


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


def test_failures_from_elsewhere_never_lock_an_administrator_out(
    limited_app: FastAPI, make_account: Callable[..., str]
) -> None:
    make_account("chief", Role.ADMIN)
    with (
        from_address(limited_app, "203.0.113.9") as attacker,
        from_address(limited_app, "10.1.2.3") as office,
    ):
        assert [attempt(attacker, "chief") for _ in range(PER_ACCOUNT + 1)] == [401] * PER_ACCOUNT + [429]
        assert attempt(office, "chief", PASSWORD) == 200
        assert attempt(attacker, "chief", PASSWORD) == 429  # the attacker's own pair stays locked


def test_the_unlock_command_lets_a_locked_account_in_again(
    limited: TestClient,
    make_account: Callable[..., str],
    database_url: str,
    node_modules: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_account("locked.out")
    assert [attempt(limited, "locked.out") for _ in range(PER_ACCOUNT)] == [401] * PER_ACCOUNT
    assert attempt(limited, "locked.out", PASSWORD) == 429
    monkeypatch.setenv("CITYOPS_NODE_MODULES", str(node_modules))
    unlocked = CliRunner().invoke(cli, ["users", "unlock", "Locked.Out", "--database-url", database_url])
    assert unlocked.exit_code == 0, unlocked.output
    # The server reads unlocks at most every UNLOCK_CHECK_SECONDS per account.
    assert wait_for(
        "the unlock", lambda: attempt(limited, "locked.out", PASSWORD) == 200, timeout=10, every_s=0.5
    )
    unknown = CliRunner().invoke(cli, ["users", "unlock", "nobody.here", "--database-url", database_url])
    assert unknown.exit_code == 2 and "nobody.here" in unknown.output
