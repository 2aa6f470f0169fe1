"""`cityops users`: create accounts (the first admin), issue API and device tokens, list them; and the
demo's operator account."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection

from cityops.config import Settings
from cityops.core import audit
from cityops.core.access.accounts import (
    AccessConflict,
    AccessError,
    AccessNotFound,
    NewUser,
    Role,
    create_user,
    fetch_user,
    list_users,
    set_password,
)
from cityops.core.access.throttle import UNLOCK_ACTION
from cityops.core.access.tokens import issue_token, list_tokens
from cityops.core.store import write_transaction

users_app = typer.Typer(help="Tài khoản và mã truy cập / accounts and API tokens.")
CLI_ACTOR = "cli"
DEMO_USERNAME = "demo"
DEMO_ACTOR = "demo"


class AccountRole(StrEnum):
    """The roles of people (a device gets a token: `cityops users token NAME --device`)."""

    ADMIN = Role.ADMIN.value
    OPERATOR = Role.OPERATOR.value
    LEADER = Role.LEADER.value
    AGENCY_OFFICER = Role.AGENCY_OFFICER.value


DatabaseOption = Annotated[str | None, typer.Option(help="SQLAlchemy URL (default: CITYOPS_DATABASE_URL)")]


@contextmanager
def _transaction(database_url: str | None) -> Iterator[tuple[Connection, Settings]]:
    """A transaction on the migrated store; the core's errors end the command with their field."""
    from cityops.core.kernel import Kernel

    settings = Settings(database_url=database_url) if database_url else Settings()
    kernel = Kernel.open(settings.database_url, settings.domains, settings.node_modules)
    try:
        with write_transaction(kernel.engine) as conn:
            yield conn, settings
    except AccessError as exc:
        typer.secho(f"{exc.field}: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except (AccessNotFound, AccessConflict) as exc:
        typer.secho(f"không thực hiện được / refused: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    finally:
        kernel.engine.dispose()


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    password: str = typer.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="2–64 characters: a–z, digits, '.', '_', '-'")],
    role: Annotated[AccountRole, typer.Option(help="the role")] = AccountRole.ADMIN,
    display_name: Annotated[str, typer.Option(help="full name shown on the dashboard")] = "",
    agency: Annotated[str | None, typer.Option(help="agency officers: the agency code")] = None,
    area: Annotated[list[str] | None, typer.Option(help="agency officers: an area code (repeat)")] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="read the password from this file's first line"),
    ] = None,
    no_password: Annotated[bool, typer.Option(help="an account that signs in with API tokens only")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create an account (the first admin, say); asks for the password unless --password-file."""
    password = None if no_password else _read_password(password_file)
    new = NewUser(username, Role(role.value), display_name, agency, tuple(area or ()), password)
    with _transaction(database_url) as (conn, settings):
        created = create_user(conn, new, CLI_ACTOR, settings.access.min_password_length)
    typer.echo(f"Đã tạo tài khoản / account created: {created['username']} ({created['role']})")


@users_app.command("token")
def token(
    owner: Annotated[
        str, typer.Argument(help="the account the token acts for; with --device, the device's name")
    ],
    device: Annotated[bool, typer.Option(help="a device token: may only send data")] = False,
    name: Annotated[str | None, typer.Option(help="what uses the token (default: 'cli')")] = None,
    expires_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Issue an API token (or a device token) and print it once: the store keeps only its digest."""
    with _transaction(database_url) as (conn, _):
        if device:
            issued = issue_token(conn, owner, "device", None, CLI_ACTOR, expires_days)
        else:
            issued = issue_token(conn, name or "cli", "user", owner, CLI_ACTOR, expires_days)
    typer.echo(
        f"Mã truy cập (chỉ hiện một lần) / token (shown once), #{issued.token['id']} {issued.token['kind']}:",
        err=True,
    )
    typer.echo(issued.secret)


@users_app.command("unlock")
def unlock(
    username: Annotated[str, typer.Argument(help="the account whose failed logins are forgotten")],
    database_url: DatabaseOption = None,
) -> None:
    """Let an account sign in again after too many failed logins, from every address (the running
    server reads this within seconds)."""
    with _transaction(database_url) as (conn, _):
        user = fetch_user(conn, username)
        audit.record(conn, CLI_ACTOR, UNLOCK_ACTION, f"user:{user.username}")
    typer.echo(f"Đã mở khóa đăng nhập / logins unlocked: {user.username}")


@users_app.command("list")
def list_(
    tokens: Annotated[bool, typer.Option(help="list API tokens instead of accounts")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List accounts (or tokens, with --tokens)."""
    with _transaction(database_url) as (conn, _):
        if tokens:
            for t in list_tokens(conn):
                state = "active" if t["active"] else ("revoked" if t["revoked_ms"] else "expired")
                owner = t["username"] or "-"
                typer.echo(
                    f"#{t['id']:<5} {t['kind']:<7} {t['name']:<24} {owner:<20} {t['prefix']}…  {state}"
                )
            return
        for user in list_users(conn):
            scope = " ".join(filter(None, [user["agency_code"], *user["area_codes"]]))
            flag = " (disabled)" if user["disabled"] else ""
            typer.echo(f"{user['username']:<24} {user['role']:<15} {scope}{flag}")


def ensure_demo_operator(conn: Connection, min_password_length: int) -> str | None:
    """The demo's operator account `demo` with a freshly generated password (returned, to be printed);
    None when an account `demo` exists that the demo did not create (it is left alone)."""
    password = secrets.token_urlsafe(max(12, min_password_length))
    try:
        existing = fetch_user(conn, DEMO_USERNAME)
    except AccessNotFound:
        new = NewUser(DEMO_USERNAME, Role.OPERATOR, "Điều hành viên thử nghiệm (demo)", password=password)
        create_user(conn, new, DEMO_ACTOR, min_password_length)
        return password
    if existing.created_by != DEMO_ACTOR or existing.role != Role.OPERATOR.value:
        return None
    set_password(conn, DEMO_USERNAME, password, DEMO_ACTOR, min_password_length)
    return password
