"""The economy domain as the kernel sees it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cityops.core.domain import Domain

if TYPE_CHECKING:
    from fastapi import APIRouter

    from cityops.core.kernel import Kernel

FOLDER = Path(__file__).parent


def router(kernel: Kernel) -> APIRouter:
    from cityops.economy.router import build_router

    return build_router(kernel)


def setup(kernel: Kernel) -> None:
    from cityops.economy.setup import load_reference

    load_reference(kernel)


DOMAIN = Domain(name="economy", folder=FOLDER, router=router, setup=setup)
