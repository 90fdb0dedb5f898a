"""The one place where errors become HTTP responses with the SP-API error body."""

from __future__ import annotations

import logging
import re
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
    Unavailable,
    Unprocessable,
    UploadForbidden,
    UploadTooLarge,
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
    Unavailable: 503,
    UploadForbidden: 403,
    UploadTooLarge: 400,
}

_HTTP_DEFAULTS: dict[int, tuple[str, str]] = {
    404: ("NotFound", "The resource specified does not exist."),
    405: ("MethodNotAllowed", "The method is not allowed for the requested resource."),
    413: ("RequestEntityTooLarge", "The request size exceeded the maximum accepted size."),
    415: ("UnsupportedMediaType", "The request payload is in an unsupported format."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Temporary overloading or maintenance of the server."),
}


# setAppointmentFulfillmentData declares a bare ErrorList (``[{...}]``, not ``{"errors": [...]}``)
# for every error status, and the sandbox answers that way; every other operation wraps the list.
_BARE_LIST_PATH = re.compile(r"^/service/v1/serviceJobs/[^/]+/appointments/[^/]+/fulfillment/?$")


def bare_error_list(method: str, path: str) -> bool:
    """True for the one operation whose error body is the list itself."""
    return method == "PUT" and _BARE_LIST_PATH.match(path) is not None


def error_body(items: tuple[ErrorItem, ...] | list[ErrorItem], *, bare: bool = False) -> dict[str, Any] | list[Any]:
    listed = [{"code": i.code, "message": i.message, "details": i.details} for i in items]
    return listed if bare else {"errors": listed}


def error_response(
    status: int, items: tuple[ErrorItem, ...] | list[ErrorItem], request: Request | None = None
) -> JSONResponse:
    bare = request is not None and bare_error_list(request.method, request.url.path)
    return JSONResponse(error_body(items, bare=bare), status_code=status)


def http_error(status: int, details: str = "", request: Request | None = None) -> JSONResponse:
    code, message = _HTTP_DEFAULTS.get(status, ("InvalidInput", "Invalid input."))
    return error_response(status, [ErrorItem(code, message, details)], request)


def status_of(error: ServiceError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    """Register the handlers: domain errors, FastAPI's validation (remapped to 400), HTTP errors, and
    unavailable backing services. Crashes are caught by the platform middleware (500 with a request id)."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(status_of(exc), exc.items, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        names: list[str] = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body", "header")]
            name = ".".join(loc) or "body"
            if name not in names:
                names.append(name)
        details = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return error_response(400, InvalidInput.params(names, details[:1000]).items, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_error(exc.status_code, request=request)

    @app.exception_handler(OperationalError)
    @app.exception_handler(RedisError)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database or Redis is unreachable or locked past its timeout: retryable, not a crash.
        log.warning("backing service unavailable: %s", exc)
        return http_error(503, request=request)
