"""Platform behaviour on every response (docs/design.md §2), as one pure-ASGI middleware:
request ids, the rate-limit header, the body size limit (413) and the JSON content type (415)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sp_services.api.errors import bare_error_list, error_body
from sp_services.domain.errors import ErrorItem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("sp_services.api")

RATE_LIMITED_STATUSES = {200, 204, 400, 404}
JSON_TYPES = ("application/json",)
# Paths whose bodies must be JSON (the LWA token endpoint is form-encoded; unknown paths are 404s).
JSON_PREFIXES = ("/service/", "/operator/")
# Paths whose bodies this middleware leaves alone entirely (size and type are the route's rules).
RAW_PREFIXES = ("/uploads/",)


class PlatformMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-amzn-requestid", request_id.encode()))
                limit = state.get("rate_limit")
                if limit is not None and message["status"] in RATE_LIMITED_STATUSES:
                    headers.append((b"x-amzn-ratelimit-limit", f"{limit}".encode()))
                message["headers"] = headers
            await send(message)

        if scope.get("path", "").startswith(RAW_PREFIXES):
            # Document uploads: binary bodies up to the document limit, checked by their own route.
            await self._guarded(scope, receive, send_with_headers, request_id)
            return

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            status = 413 if declared.isdigit() else 400
            await self._reject(send_with_headers, status, scope)
            return

        chunks: list[bytes] = []
        size = 0
        more = (
            scope["method"] not in ("GET", "HEAD", "DELETE", "OPTIONS")
            or declared not in (None, "0")
            or "transfer-encoding" in headers
        )
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._reject(send_with_headers, 413, scope)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)

        path: str = scope.get("path", "")
        if body.strip() and path.startswith(JSON_PREFIXES):
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in JSON_TYPES:
                await self._reject(send_with_headers, 415, scope)
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._guarded(scope, replay, send_with_headers, request_id)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            # Last line of defence: an unexpected error still gets the SP-API body and a request id.
            log.exception("unhandled error in request %s", request_id)
            if not started:
                await self._reject(send, 500, scope)

    @staticmethod
    async def _reject(send: Send, status: int, scope: Scope) -> None:
        code, message = {
            413: ("RequestEntityTooLarge", "The request size exceeded the maximum accepted size."),
            415: ("UnsupportedMediaType", "The request payload is in an unsupported format."),
            400: ("InvalidInput", "Missing or invalid request parameters: [Content-Length]"),
            500: ("InternalFailure", "We encountered an internal error. Please try again."),
        }[status]
        bare = bare_error_list(scope.get("method", ""), scope.get("path", ""))
        payload = json.dumps(error_body([ErrorItem(code, message, "")], bare=bare)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})
