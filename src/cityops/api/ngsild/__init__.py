"""The NGSI-LD API (ETSI GS CIM 009) at `/ngsi-ld/v1`: a view over the kernel's entities and
observations, for FIWARE clients (docs/ngsild.md)."""

from __future__ import annotations

from fastapi import APIRouter

from cityops.api.ngsild import batch, entities, temporal

router = APIRouter()
for part in (entities, batch, temporal):
    router.include_router(part.router)
