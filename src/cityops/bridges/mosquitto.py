"""Mosquitto (Debian `mosquitto`) as the devices' broker: its access list and a configuration for a
loopback or LAN listener, and per-device passwords through `mosquitto_passwd`."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

DEVICE_NAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"


def acl(prefix: str, bridge_user: str) -> str:
    """The broker's access list: the bridge reads every device's points and answers on its errors topic;
    a device (`%u`, its user name) publishes only its own points and reads only its own errors."""
    return (
        f"user {bridge_user}\n"
        f"topic read {prefix}/devices/+/points\n"
        f"topic write {prefix}/devices/+/errors\n"
        "\n"
        f"pattern write {prefix}/devices/%u/points\n"
        f"pattern read {prefix}/devices/%u/errors\n"
    )


def broker_config(folder: Path, host: str, port: int, run_as: str | None = None) -> str:
    """A mosquitto.conf: one listener, no anonymous clients, passwords and the access list in `folder`,
    and persistence there so that queued QoS 1 messages of the bridge's session survive a restart.
    `run_as`: the user a broker started as root switches to (it must read `folder`)."""
    return (
        (f"user {run_as}\n" if run_as else "")
        + "per_listener_settings false\n"
        + f"listener {port} {host}\n"
        + "allow_anonymous false\n"
        f"password_file {folder / 'passwords'}\n"
        f"acl_file {folder / 'acl'}\n"
        "persistence true\n"
        f"persistence_location {folder}/\n"
        "autosave_interval 1\n"
        "max_queued_messages 100000\n"
        "log_dest stderr\n"
    )


def add_device(password_file: Path, name: str, password: str | None = None) -> str:
    """Add (or reset) a device's password in the broker's password file; returns the password."""
    password = password or secrets.token_urlsafe(24)
    if not password_file.exists():
        password_file.touch(mode=0o600)
    subprocess.run(["mosquitto_passwd", "-b", str(password_file), name, password], check=True)
    return password
