"""What a running app holds: settings, database, rate limiter and clock; and the request dependencies
that authenticate callers and apply usage plans."""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from sp_services.api.ratelimit import Limiter
from sp_services.domain.catalog import Principal
from sp_services.domain.enums import PROFESSIONAL_SERVICES_ROLE
from sp_services.domain.errors import ErrorItem, QuotaExceeded, Unauthenticated, Unavailable
from sp_services.domain.rate_limits import RATE_LIMITS
from sp_services.persistence.db import Database
from sp_services.services.auth import principal_for
from sp_services.services.documents import DocumentStore
from sp_services.settings import Settings

T = TypeVar("T")


def system_clock() -> datetime:
    return datetime.now(UTC)


# A checked access token is trusted for this long without another database read; a revoked
# authorization therefore stops working within this time (tokens live an hour either way).
TOKEN_CACHE_TTL = timedelta(seconds=30)
TOKEN_CACHE_SIZE = 10_000


@dataclass
class AppContext:
    settings: Settings
    db: Database
    limiter: Limiter | None
    document_store: DocumentStore
    clock: Callable[[], datetime] = field(default=system_clock)
    # token -> (principal, when it was checked, when the token expires)
    tokens: dict[str, tuple[Principal, datetime, datetime]] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    async def run(self, work: Callable[[Session, datetime], T], *, write: bool = True) -> T:
        """Run one use case as one unit of work, off the event loop: committed once, or rolled back.

        Bounded by ``request_timeout``: past it the request answers 503 and the work, should it
        still finish, rolls back instead of committing (a stalled database leaves no trace)."""
        late = threading.Event()

        def unit_of_work() -> T:
            with self.db.transaction(write=write, abandoned=late.is_set) as session:
                return work(session, self.now())

        try:
            return await asyncio.wait_for(
                anyio.to_thread.run_sync(unit_of_work, abandon_on_cancel=True), self.settings.request_timeout
            )
        except TimeoutError:
            late.set()
            raise Unavailable.now() from None


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


_DENIED = "Access to requested resource is denied."


async def _authenticate(request: Request, ctx: AppContext) -> Principal:
    token = request.headers.get("x-amz-access-token")
    if not token:
        raise Unauthenticated(ErrorItem("Unauthorized", _DENIED, "Access token is missing in the request header."))
    now = ctx.now()
    cached = ctx.tokens.get(token)
    principal: Principal | None
    if cached is not None and timedelta(0) <= now - cached[1] < TOKEN_CACHE_TTL and now < cached[2]:
        principal = cached[0]
    else:
        found = await ctx.run(lambda s, _now: principal_for(s, access_token=token, now=now), write=False)
        principal = found[0] if found else None
        if found is not None:
            if len(ctx.tokens) >= TOKEN_CACHE_SIZE:
                ctx.tokens.clear()
            ctx.tokens[token] = (found[0], now, found[1])
    if principal is None:
        raise Unauthenticated(
            ErrorItem("Unauthorized", _DENIED, "The access token you provided is revoked, malformed or invalid.")
        )
    if PROFESSIONAL_SERVICES_ROLE not in principal.roles:
        raise Unauthenticated(
            ErrorItem("Unauthorized", _DENIED, "The application is not granted the Professional Services role.")
        )
    return principal


def caller(operation: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency for one SP-API operation: authenticate, check the role, apply the usage plan."""
    rate, burst = RATE_LIMITS[operation]

    async def dependency(request: Request, ctx: AppContext = Depends(context)) -> Principal:
        principal = await _authenticate(request, ctx)
        scale = ctx.settings.rate_limit_scale
        request.state.rate_limit = f"{rate * scale:.1f}"
        if ctx.limiter is not None:
            key = f"{principal.seller_id}:{principal.client_id}:{operation}"
            if not await ctx.limiter.acquire(key, rate * scale, max(1, round(burst * scale))):
                raise QuotaExceeded(
                    ErrorItem("QuotaExceeded", "You exceeded your quota for the requested resource.", "")
                )
        return principal

    dependency.__name__ = f"caller_{operation}"
    return dependency


def require_operator_key(request: Request, ctx: AppContext = Depends(context)) -> None:
    """Dependency for the operator API: ``Authorization: Bearer <operator key>``."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    expected = ctx.settings.resolved_operator_key
    if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), expected.encode()):
        raise Unauthenticated(ErrorItem("Unauthorized", _DENIED, "A valid operator key is required."))
