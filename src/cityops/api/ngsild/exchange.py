"""What every NGSI-LD request and answer shares: the body (size-limited, JSON), the `@context` (Link
header or body), content negotiation (application/json or application/ld+json), the caller and its
tenant, and the answer's headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import Depends, Request, Response
from sqlalchemy import select

from cityops.api.auth import INGESTORS, READERS, by_method
from cityops.api.ingest import read_limited_body
from cityops.api.ngsild.context import Context, body_context, link_header, parse_link
from cityops.api.ngsild.errors import NgsiError, bad_data
from cityops.api.state import kernel_of, settings_of
from cityops.core.access.accounts import Principal, Role
from cityops.core.kernel import Kernel
from cityops.core.rules.scope import AreaTree
from cityops.core.schema import areas

JSON = "application/json"
JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"
TENANT_HEADER = "NGSILD-Tenant"


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def answer_type(request: Request) -> str:
    """application/ld+json when the client asks for it, else application/json (also for */*)."""
    accept = request.headers.get("accept", "")
    wanted = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    if not wanted:
        return JSON
    for kind in wanted:
        if kind in (JSON, JSON_LD):
            return kind
        if kind in ("*/*", "application/*"):
            return JSON
    raise NgsiError(
        "InvalidRequest", f"Accept: cityops answers {JSON} or {JSON_LD}, not {accept!r}", status=406
    )


async def read_json(request: Request) -> Any:
    kind = media_type(request)
    if kind not in (JSON, JSON_LD):
        raise NgsiError(
            "InvalidRequest", f"Content-Type must be {JSON} or {JSON_LD}, not {kind!r}", status=415
        )
    limit = settings_of(request).max_body_bytes
    body = await read_limited_body(request, limit)
    if body is None:
        raise NgsiError("BadRequestData", f"the body is larger than the limit of {limit} bytes", status=413)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise NgsiError("InvalidRequest", f"the body is not JSON: {exc}") from None


def context_of(request: Request, body: Any = None) -> Context:
    """The request's context: from the body with application/ld+json (where a Link header is an error),
    else from the Link header, else the core context."""
    link = parse_link(request.headers.get("link"))
    if media_type(request) == JSON_LD and body is not None:
        if link is not None:
            raise bad_data("with application/ld+json the @context goes in the body, not in a Link header")
        items = body if isinstance(body, list) else [body]
        contexts = [item.get("@context") for item in items if isinstance(item, dict)]
        if not contexts or any(c is None for c in contexts):
            raise bad_data("@context: a body in application/ld+json must carry @context")
        given = contexts[0]
        return Context.build(given if isinstance(given, list) else [given])
    if isinstance(body, dict) and "@context" in body:
        raise bad_data("@context: with application/json give the context in a Link header, not in the body")
    return Context.build([] if link is None else [link])


def respond(
    request: Request,
    content: Any,
    context: Context,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    kind = answer_type(request)
    extra = dict(headers or {})
    if kind == JSON_LD:
        document = body_context(context)
        if isinstance(content, list):
            content = [{**item, "@context": document} for item in content]
        elif isinstance(content, dict):
            content = {**content, "@context": document}
    else:
        extra["Link"] = link_header(context)
    return Response(orjson.dumps(content), status, headers=extra, media_type=kind)


# --- who calls, and in which tenant -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    tenant: str | None
    areas: frozenset[str] | None  # the tenant's area and everything below; None: the whole store

    @property
    def is_device(self) -> bool:
        return self.principal.role is Role.DEVICE

    def require_entity_writer(self) -> None:
        """Devices send values of existing entities' metrics; creating, renaming, moving, deleting
        entities and changing their other attributes is for admins and operators."""
        if self.is_device:
            raise NgsiError(
                "OperationNotSupported",
                "a device token may only update the metrics of existing entities",
                title="Forbidden",
                status=403,
            )


def tenant_areas(kernel: Kernel, tenant: str) -> frozenset[str]:
    with kernel.engine.connect() as conn:
        known = conn.execute(select(areas.c.code).where(areas.c.code == tenant)).first()
        if known is None:
            raise NgsiError(
                "NonexistentTenant",
                f"{TENANT_HEADER}: {tenant!r} is not an area code such as '2025:25747' or 'legacy:718'",
            )
        return frozenset(AreaTree.load(conn).descendants(tenant))


async def caller(
    request: Request,
    principal: Annotated[Principal, Depends(by_method(read=READERS, write=INGESTORS))],
) -> Caller:
    tenant = request.headers.get(TENANT_HEADER)
    if tenant is None or tenant == "":
        return Caller(principal, None, None)
    kernel = kernel_of(request)
    found = await anyio.to_thread.run_sync(tenant_areas, kernel, tenant)
    return Caller(principal, tenant, found)


CallerDep = Annotated[Caller, Depends(caller)]
