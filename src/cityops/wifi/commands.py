"""`cityops wifi ...`: the wifi domain's commands."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, delete, insert, select

from cityops.config import Settings
from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.wifi.freeradius_config import Client, Listen, write_folder
from cityops.wifi.registry import digest
from cityops.wifi.schema import nas_clients, radius_backends
from cityops.wifi.settings import WifiSettings


def build_commands() -> typer.Typer:
    commands = typer.Typer(help="Wifi công cộng và doanh nghiệp / public and business wifi.")
    commands.command("freeradius-config")(freeradius_config)
    return commands


def configure_freeradius(
    engine: Engine,
    out: Path,
    api_url: str,
    listen: Listen,
    spool: Path,
    name: str = "freeradius",
    threads: int = 8,
) -> Path:
    """Store a new secret for FreeRADIUS `name` (replacing its old one) and write its folder."""
    secret = secrets.token_urlsafe(32)
    with write_transaction(engine) as conn:
        conn.execute(delete(radius_backends).where(radius_backends.c.name == name))
        conn.execute(
            insert(radius_backends).values(
                name=name, secret_hash=digest(secret), created_ms=int(time.time() * 1000)
            )
        )
        rows = conn.execute(select(nas_clients).order_by(nas_clients.c.name)).all()
    clients = [Client(row.name, row.ip_address, row.secret) for row in rows]
    return write_folder(out, clients, api_url, secret, spool, listen, threads)


def freeradius_config(
    out: Annotated[Path, typer.Option(help="the folder to write (freeradius -d <folder>)")] = Path(
        "var/freeradius"
    ),
    api_url: Annotated[str, typer.Option(help="where FreeRADIUS reaches cityops")] = "http://127.0.0.1:8080",
    address: Annotated[str, typer.Option(help="the address FreeRADIUS listens on")] = "127.0.0.1",
    auth_port: Annotated[int, typer.Option(min=1, max=65535)] = 1812,
    acct_port: Annotated[int, typer.Option(min=1, max=65535)] = 1813,
    threads: Annotated[int, typer.Option(min=1, max=256, help="FreeRADIUS worker threads")] = 8,
    spool: Annotated[
        Path | None,
        typer.Option(
            help="where FreeRADIUS writes accounting for cityops (default: CITYOPS_WIFI_DETAIL_SPOOL)"
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL (default: CITYOPS_DATABASE_URL)")
    ] = None,
) -> None:
    """Viết cấu hình FreeRADIUS / write a FreeRADIUS configuration: clients per NAS, accounting to the spool.

    Run it again after adding a NAS (FreeRADIUS reads clients at start). Each run gives FreeRADIUS a new
    secret; the previous folder stops being accepted."""
    settings = Settings(database_url=database_url) if database_url else Settings()
    kernel = Kernel.open(settings.database_url, settings.domains, settings.node_modules)
    try:
        listen = Listen(address, auth_port, acct_port)
        spool = spool or WifiSettings().detail_spool
        folder = configure_freeradius(kernel.engine, out, api_url, listen, spool, threads=threads)
    finally:
        kernel.engine.dispose()
    typer.echo(f"FreeRADIUS: {folder} — freeradius -f -d {folder}")
