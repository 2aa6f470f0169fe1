"""NGSI-LD errors as problem details (RFC 7807, ETSI GS CIM 009 clause 5.5.2), and the route class that
turns every error raised in the NGSI-LD routes into one."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
# The specification's error types with their HTTP status.
STATUS = {
    "InvalidRequest": 400,
    "BadRequestData": 400,
    "AlreadyExists": 409,
    "OperationNotSupported": 422,
    "ResourceNotFound": 404,
    "InternalError": 500,
    "TooComplexQuery": 403,
    "TooManyResults": 403,
    "LdContextNotAvailable": 503,
    "NonexistentTenant": 404,
}
PROBLEM_JSON = "application/json"


class NgsiError(Exception):
    def __init__(self, kind: str, detail: str, title: str | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.title = title or kind
        self.status = status or STATUS[kind]

    def body(self) -> dict[str, Any]:
        return {"type": ERRORS + self.kind, "title": self.title, "status": self.status, "detail": self.detail}


def bad_data(detail: str) -> NgsiError:
    return NgsiError("BadRequestData", detail)


def not_found(entity_id: str, what: str = "entity") -> NgsiError:
    return NgsiError("ResourceNotFound", f"no {what} {entity_id}")


def problem_response(error: NgsiError, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(error.body()), error.status, headers=headers, media_type=PROBLEM_JSON)


def _from_http(exc: HTTPException) -> Response:
    """cityops's access errors (401/403/404/413...) in problem-details form, keeping their code and texts."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(exc.status_code).phrase}
    body["status"] = exc.status_code
    if isinstance(exc.detail, dict):
        body["detail"] = exc.detail.get("msg", "")
        body.update({k: v for k, v in exc.detail.items() if k != "msg"})
    else:
        body["detail"] = str(exc.detail)
    return Response(orjson.dumps(body), exc.status_code, headers=exc.headers, media_type=PROBLEM_JSON)


class NgsiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except NgsiError as exc:
                return problem_response(exc)
            except RequestValidationError as exc:
                where = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
                )
                return problem_response(bad_data(where))
            except HTTPException as exc:
                return _from_http(exc)

        return route_handler
