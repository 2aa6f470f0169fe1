"""`cityops mqtt`: the broker's side of MQTT ingestion — device passwords, the access list, a broker
configuration (docs/mqtt.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from cityops.bridges.mosquitto import DEVICE_NAME, acl, add_device, broker_config

mqtt_app = typer.Typer(help="Thu nhận dữ liệu qua MQTT / MQTT ingestion (Mosquitto).")


@mqtt_app.command("device")
def device(
    name: Annotated[str, typer.Argument(help="the device's user name on the broker")],
    folder: Annotated[Path, typer.Option(help="the broker's folder (passwords, acl)")] = Path("var/mqtt"),
) -> None:
    """Give a device a password on the broker (printed once); it may publish only its own points."""
    if not re.match(DEVICE_NAME, name):
        raise typer.BadParameter("lower-case letters, digits, '.', '_', '-' (2-64)", param_hint="NAME")
    folder.mkdir(parents=True, exist_ok=True)
    password = add_device(folder / "passwords", name)
    typer.echo(f"{name}: {password}")
    typer.echo("Mật khẩu chỉ hiện một lần / shown once / 一度だけ表示されます", err=True)


@mqtt_app.command("broker-config")
def write_broker_config(
    folder: Annotated[Path, typer.Option(help="where the broker keeps its files")] = Path("var/mqtt"),
    host: Annotated[str, typer.Option(help="address the broker listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 1883,
    prefix: Annotated[str, typer.Option(help="topic prefix")] = "cityops/v1",
    bridge_user: Annotated[str, typer.Option(help="the bridge's user name")] = "cityops-bridge",
    run_as: Annotated[str | None, typer.Option(help="the user a broker started as root runs as")] = None,
) -> None:
    """Write mosquitto.conf and the access list, and the bridge's password (printed once)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "acl").write_text(acl(prefix, bridge_user), encoding="utf-8")
    (folder / "mosquitto.conf").write_text(
        broker_config(folder.resolve(), host, port, run_as), encoding="utf-8"
    )
    password = add_device(folder / "passwords", bridge_user)
    typer.echo(f"mosquitto -c {folder / 'mosquitto.conf'}")
    typer.echo(f"CITYOPS_MQTT__URL=mqtt://{host}:{port} CITYOPS_MQTT__USERNAME={bridge_user}")
    typer.echo(f"CITYOPS_MQTT__PASSWORD={password}")
