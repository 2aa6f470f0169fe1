"""`cityops traffic ...`: the traffic domain's commands (added to the `cityops` command by the kernel)."""

from __future__ import annotations

import typer


def build_commands() -> typer.Typer:
    commands = typer.Typer(help="Camera giao thông / traffic cameras: weights and video workers.")
    return commands
