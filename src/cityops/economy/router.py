"""The economy domain's API, mounted under `/api/economy`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from cityops.economy.routes_programme import programme_router
from cityops.economy.routes_series import series_router

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel


def build_router(kernel: Kernel) -> APIRouter:
    router = APIRouter(tags=["economy"])
    router.include_router(series_router(kernel.engine))
    router.include_router(programme_router(kernel))
    return router
