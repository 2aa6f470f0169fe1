"""A store that cannot be reached (PostgreSQL restarting or failing over, its connections ended) is a
503 with `Retry-After: 1`, not a 500: nothing was stored, and the same request sent again once the store
is back is answered as usual. The connection pool checks connections before use (`pool_pre_ping`), so
the first request after the store is back gets a fresh connection."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
RETRY_AFTER_S = 1


def unreachable(exc: OperationalError) -> bool:
    """PostgreSQL's connection refused, lost or ended by the server (psycopg's `OperationalError`s)."""
    return exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError)


async def _store_unreachable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OperationalError)
    if not unreachable(exc):
        raise exc
    log.warning("%s %s: the store is unreachable: %s", request.method, request.url.path, exc.orig)
    detail: list[dict[str, object]] = [
        {"loc": [], "field": None, "msg": "the store is unreachable for now; send the request again"}
    ]
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


def install(app: FastAPI) -> None:
    app.add_exception_handler(OperationalError, _store_unreachable)
