"""`/api/wifi/radius/...`: what FreeRADIUS's rest module calls (see `freeradius_config.py`).

Open to no one but FreeRADIUS: each call carries HTTP Basic `freeradius:<secret>`, checked against the
digests `cityops wifi freeradius-config` stored. `?nas=` is FreeRADIUS's own name for the client that
sent the packet (matched by source address and shared secret), never something the NAS can choose.

Answers follow rlm_rest's reading of status codes: 200 with attributes (ok/updated), 204 (ok, nothing
to add), 401 (reject, with a Reply-Message), 400 (invalid: a malformed request, naming the attribute).
Accounting does not come here: FreeRADIUS writes it to the detail spool (see detail_reader.py).
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated

import anyio.to_thread
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from cityops.core.store import write_transaction
from cityops.wifi import aaa
from cityops.wifi.attributes import RadiusRequest, RequestError
from cityops.wifi.runtime import WifiRuntime

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 65_536
NasName = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


def bad(attribute: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": ["body", attribute], "field": attribute, "msg": message}]}, status
    )


def credentials(request: Request) -> str | None:
    """The password of HTTP Basic `freeradius:<password>`, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password if user == "freeradius" else None


async def read_request(request: Request) -> RadiusRequest:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise RequestError("body", f"larger than {MAX_BODY_BYTES} bytes")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError("body", f"malformed JSON: {exc}") from None
    return RadiusRequest.from_rest(document)


def build_radius_router(runtime: WifiRuntime) -> APIRouter:
    router = APIRouter(prefix="/radius", tags=["wifi: FreeRADIUS"])
    engine = runtime.kernel.engine

    async def admitted(request: Request) -> RadiusRequest | Response:
        secret = credentials(request)
        if secret is None or not runtime.backend_allowed(secret):
            return bad("authorization", "FreeRADIUS's HTTP Basic credentials are missing or wrong", 401)
        try:
            return await read_request(request)
        except RequestError as exc:
            return bad(exc.attribute, exc.message)

    @router.post("/authorize", summary="rlm_rest authorize: check the user, return the plan's attributes")
    async def authorize(request: Request, nas: NasName = None) -> Response:
        parsed = await admitted(request)
        if isinstance(parsed, Response):
            return parsed

        def decide() -> aaa.Decision:
            with engine.connect() as conn:
                return aaa.authorize(conn, nas, parsed, runtime.now_ms(), runtime.settings.interim_seconds)

        try:
            decision = await anyio.to_thread.run_sync(decide)
        except RequestError as exc:
            return bad(exc.attribute, exc.message)
        return JSONResponse(decision.attributes, status_code=200 if decision.accepted else 401)

    @router.post("/post-auth", status_code=204, summary="rlm_rest post-auth: record the outcome")
    async def post_auth(
        request: Request,
        nas: NasName = None,
        result: Annotated[str, Query(max_length=16)] = "Accept",
    ) -> Response:
        parsed = await admitted(request)
        if isinstance(parsed, Response):
            return parsed

        def store() -> None:
            with write_transaction(engine) as conn:
                aaa.post_auth(conn, nas, parsed, result.lower() != "reject", runtime.now_ms())

        await anyio.to_thread.run_sync(store)
        return Response(status_code=204)

    return router
