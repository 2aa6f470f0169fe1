"""The agencies incidents are assigned to, by name: what the domains name (`Domain.agencies`), and every
code already in use (agency officers' accounts, assigned incidents) so that none is missing from a
picker. A code no domain names reads as itself."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from sqlalchemy import select, union

from cityops.api.auth import Reader
from cityops.api.state import kernel_of
from cityops.core.access.schema import users
from cityops.core.domain import LANGUAGES
from cityops.core.kernel import Kernel
from cityops.core.schema_operations import incidents

router = APIRouter(tags=["operations"])


def list_agencies(kernel: Kernel) -> list[dict[str, Any]]:
    named: dict[str, dict[str, str]] = {}
    for domain in kernel.domains:
        for agency in domain.agencies() if domain.agencies else ():
            named.setdefault(agency.code, agency.name)
    in_use = union(
        select(users.c.agency_code.label("code")).where(users.c.agency_code.is_not(None)),
        select(incidents.c.agency.label("code")).where(incidents.c.agency.is_not(None)),
    )
    with kernel.engine.connect() as conn:
        codes = {row.code for row in conn.execute(in_use)}
    for code in codes - named.keys():
        named[code] = {language: code for language in LANGUAGES}
    listed = [{"code": code, "name": name} for code, name in named.items()]
    return sorted(listed, key=lambda agency: agency["name"].get("vi", agency["code"]).casefold())


@router.get("/api/agencies", summary="Agencies incidents can be assigned to, with their names (vi, en, ja)")
async def get_agencies(request: Request, principal: Reader) -> list[dict[str, Any]]:
    kernel = kernel_of(request)
    return await anyio.to_thread.run_sync(list_agencies, kernel)
