"""The one place where errors become HTTP responses with the SP-API error body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sp_services.domain.errors import (
    Conflict,
    ErrorItem,
    InvalidInput,
    NotAuthorized,
    NotFound,
    QuotaExceeded,
    ServiceError,
    Unauthenticated,
    Unprocessable,
)

log = logging.getLogger("sp_services.api")

STATUS: dict[type[ServiceError], int] = {
    InvalidInput: 400,
    Unauthenticated: 403,
    NotAuthorized: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    QuotaExceeded: 429,
}

_HTTP_DEFAULTS: dict[int, tuple[str, str]] = {
    404: ("NotFound", "The resource specified does not exist."),
    405: ("MethodNotAllowed", "The method is not allowed for the requested resource."),
    413: ("RequestEntityTooLarge", "The request size exceeded the maximum accepted size."),
    415: ("UnsupportedMediaType", "The request payload is in an unsupported format."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Temporary overloading or maintenance of the server."),
}


def error_body(items: tuple[ErrorItem, ...] | list[ErrorItem]) -> dict[str, Any]:
    return {"errors": [{"code": i.code, "message": i.message, "details": i.details} for i in items]}


def error_response(status: int, items: tuple[ErrorItem, ...] | list[ErrorItem]) -> JSONResponse:
    return JSONResponse(error_body(items), status_code=status)


def http_error(status: int, details: str = "") -> JSONResponse:
    code, message = _HTTP_DEFAULTS.get(status, ("InvalidInput", "Invalid input."))
    return error_response(status, [ErrorItem(code, message, details)])


def status_of(error: ServiceError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    """Register the handlers: domain errors, FastAPI's validation (remapped to 400), HTTP errors, and
    unavailable backing services. Crashes are caught by the platform middleware (500 with a request id)."""

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(status_of(exc), exc.items)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        names: list[str] = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body", "header")]
            name = ".".join(loc) or "body"
            if name not in names:
                names.append(name)
        details = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return error_response(400, InvalidInput.params(names, details[:1000]).items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_error(exc.status_code)

    @app.exception_handler(OperationalError)
    @app.exception_handler(RedisError)
    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The database or Redis is unreachable or locked past its timeout: retryable, not a crash.
        log.warning("backing service unavailable: %s", exc)
        return http_error(503)
