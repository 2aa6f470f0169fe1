"""How large a request may be, what a refusal echoes, and numbers out of the store's range.

Every request body is limited before it is read (Starlette's body limit: the declared Content-Length is
checked at the first read, streamed bytes are counted as they come): `Settings.max_request_bytes` by
default, more where a route declares it (`max_body_size=` on the route or on `include_router`). A body
past its limit gets 413 naming the limit, as JSON like every other error (Starlette answers its own refusals
in plain text: `JsonTooLarge`, outside the whole stack, rewrites them). A 422 never echoes what was sent (FastAPI's own handler
returns each wrong field's `input`, however large): only where and why.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ECHOED_FIELDS = ("type", "loc", "msg", "ctx")
INT64_MAX = 2**63 - 1


def beyond_int64(text: str, limit: int = INT64_MAX) -> bool:
    digits = text.strip().removeprefix("-").removeprefix("+")
    return digits.isdigit() and int(digits) > limit


def too_large(limit: int | None) -> list[dict[str, Any]]:
    message = "is larger than the limit" + ("" if limit is None else f" of {limit} bytes")
    return [{"loc": ["body"], "field": "body", "msg": message, "limit": limit}]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 413 and exc.detail == "Content Too Large":  # Starlette's body limit
        return JSONResponse({"detail": too_large(request.scope.get(MAX_BODY_SIZE_SCOPE_KEY))}, 413)
    return await http_exception_handler(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{key: error[key] for key in ECHOED_FIELDS if key in error} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    params = [("path", k, v) for k, v in request.path_params.items() if isinstance(v, str)]
    params += [("query", k, v) for k, v in request.query_params.multi_items()]
    wrong = [(where, name) for where, name, value in params if beyond_int64(value)]
    if not wrong and "NUL (0x00)" in str(exc):
        # PostgreSQL keeps no NUL character in text (SQLite does): such input is refused, not a 500.
        nul = {"loc": ["body"], "field": None, "msg": "text must not contain NUL (U+0000) characters"}
        return JSONResponse({"detail": [nul]}, status_code=422)
    limit = INT64_MAX
    if not wrong and "out of range" in str(exc):
        # PostgreSQL's 32-bit integer columns (ids, counts) refuse what SQLite's 64-bit ones take.
        limit = 2**31 - 1
        wrong = [(where, name) for where, name, value in params if beyond_int64(value, limit)]
        if not wrong:
            number = {"loc": ["body"], "field": None, "msg": "a number is out of the store's range"}
            return JSONResponse({"detail": [number]}, status_code=422)
    if not wrong:
        raise exc
    message = f"is out of range: at most {limit}"
    errors = [
        {"loc": [where, name], "field": name, "msg": message, "type": "int_range"} for where, name in wrong
    ]
    return JSONResponse({"detail": errors}, status_code=422)


class JsonTooLarge:
    """Turns Starlette's plain-text 413 (sent by its body-limit middleware, outside any exception handler:
    a declared Content-Length past the limit, or a body cut off before a route ran) into the JSON body
    `too_large` writes. Other responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rewriting = False

        async def send_json_413(message: Message) -> None:
            nonlocal rewriting
            if message["type"] == "http.response.start" and message["status"] == 413:
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                rewriting = content_type.startswith(b"text/plain")
            if not rewriting:
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # The limit is still in the scope while the refusal is sent (Starlette pops it after).
                response = JSONResponse({"detail": too_large(scope.get(MAX_BODY_SIZE_SCOPE_KEY))}, 413)
                await response(scope, receive, send)

        await self.app(scope, receive, send_json_413)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # SQLite's driver raises OverflowError for an integer past 64 bits; PostgreSQL's a DataError (which it
    # also raises for a NUL character in text).
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
