"""`cityops users`: create the first admin (password from a file or a hidden prompt), issue tokens that are
printed once, list accounts and tokens; and the demo's operator account."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cityops.cli import app
from cityops.cli_users import DEMO_USERNAME, ensure_demo_operator
from cityops.core.access.accounts import NewUser, Role, create_user, verify_password
from cityops.core.access.schema import users
from cityops.core.access.tokens import resolve_token
from cityops.core.store import open_engine

PASSWORD = "quản trị viên đầu tiên"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, node_modules: Path) -> CliRunner:
    monkeypatch.setenv("CITYOPS_NODE_MODULES", str(node_modules))
    return CliRunner()


def test_first_admin_token_and_lists(runner: CliRunner, database_url: str, tmp_path: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text(PASSWORD + "\n", encoding="utf-8")
    db = ["--database-url", database_url]
    created = runner.invoke(
        app, ["users", "create", "Boss", "--role", "admin", "--password-file", str(secret_file), *db]
    )
    assert created.exit_code == 0, created.output
    prompted = runner.invoke(
        app, ["users", "create", "op", "--role", "operator", *db], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output
    issued = runner.invoke(app, ["users", "token", "boss", "--name", "ci", *db])
    device = runner.invoke(app, ["users", "token", "gateway-1", "--device", *db])
    assert issued.exit_code == device.exit_code == 0
    boss_token, device_token = issued.stdout.strip().splitlines()[-1], device.stdout.strip().splitlines()[-1]
    engine = open_engine(database_url)
    with engine.begin() as conn:
        hashes = {row.username: row.password_hash for row in conn.execute(select(users))}
        assert verify_password(hashes["boss"], PASSWORD) and verify_password(hashes["op"], PASSWORD)
        boss, gateway = resolve_token(conn, boss_token), resolve_token(conn, device_token)
        assert boss is not None and (boss.name, boss.role) == ("boss", Role.ADMIN)
        assert gateway is not None and gateway.role is Role.DEVICE
    engine.dispose()
    accounts = runner.invoke(app, ["users", "list", *db]).stdout
    assert [line.split()[:2] for line in accounts.splitlines()] == [
        ["boss", "admin"],
        ["op", "operator"],
        ["test-admin", "admin"],
    ]
    tokens = runner.invoke(app, ["users", "list", "--tokens", *db]).stdout
    assert "gateway-1" in tokens and boss_token[:12] in tokens
    assert boss_token not in tokens and device_token not in tokens


def test_bad_input_names_the_field(runner: CliRunner, database_url: str, tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("ngắn\n", encoding="utf-8")
    db = ["--database-url", database_url]
    result = runner.invoke(
        app, ["users", "create", "weak", "--role", "leader", "--password-file", str(short), *db]
    )
    assert result.exit_code == 2 and "password" in result.output
    result = runner.invoke(
        app, ["users", "create", "officer", "--role", "agency_officer", "--no-password", *db]
    )
    assert result.exit_code == 2 and "agency_code" in result.output
    result = runner.invoke(app, ["users", "token", "nobody", *db])
    assert result.exit_code == 2 and "nobody" in result.output


def test_the_demo_account_gets_a_fresh_password_and_a_real_account_is_left_alone(database_url: str) -> None:
    engine = open_engine(database_url)
    with engine.begin() as conn:
        first = ensure_demo_operator(conn, 12)
        second = ensure_demo_operator(conn, 12)
        assert first is not None and second is not None and first != second
        row = conn.execute(select(users).where(users.c.username == DEMO_USERNAME)).one()
        assert row.role == "operator" and verify_password(row.password_hash, second)
        assert not verify_password(row.password_hash, first)
    engine.dispose()


def test_an_account_named_demo_that_the_demo_did_not_create_is_kept(database_url: str) -> None:
    engine = open_engine(database_url)
    with engine.begin() as conn:
        create_user(conn, NewUser(DEMO_USERNAME, Role.ADMIN, password=PASSWORD), "cli")
        assert ensure_demo_operator(conn, 12) is None
        row = conn.execute(select(users).where(users.c.username == DEMO_USERNAME)).one()
        assert row.role == "admin" and verify_password(row.password_hash, PASSWORD)
    engine.dispose()
