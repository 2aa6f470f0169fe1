"""Where the app keeps the kernel and the settings (on `app.state`)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from cityops.config import Settings
from cityops.core.kernel import Kernel


def kernel_of(connection: HTTPConnection) -> Kernel:
    kernel: Kernel = connection.app.state.kernel
    return kernel


def settings_of(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings
