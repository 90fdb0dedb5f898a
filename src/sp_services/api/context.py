"""What a running app holds: settings, database, rate limiter and clock; and the request dependencies
that authenticate callers and apply usage plans."""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from sp_services.api.documents_cache import JobDocuments
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
    # Serialised jobs by revision (api/documents_cache.py).
    job_documents: JobDocuments = field(default_factory=JobDocuments)
    # Database work runs on at most settings.db_threads threads at once (made on first use: a
    # limiter belongs to the event loop that runs the app).
    _threads: anyio.CapacityLimiter | None = None
    _short: anyio.CapacityLimiter | None = None

    def now(self) -> datetime:
        return self.clock()

    def _limiter(self) -> anyio.CapacityLimiter:
        return _limiter_of(self)

    def _short_lane(self) -> anyio.CapacityLimiter:
        """Short reads on a networked database go one at a time, beside the other work's threads:
        several at once spend more on passing the interpreter lock between threads than the reads
        take (measured: one lane 1,040 req/s for a job read at 16 connections on PostgreSQL, four
        threads 720). A long read or a write never waits behind them, nor they behind it."""
        if self._short is None:
            self._short = anyio.CapacityLimiter(1)
        return self._short

    async def run(
        self,
        work: Callable[[Session, datetime], T],
        *,
        write: bool = True,
        short: bool = False,
        timeout: float | None = None,
    ) -> T:
        """Run one use case as one unit of work: committed once, or rolled back.

        On a worker thread, bounded by ``request_timeout``: past it the request answers 503 and the
        work, should it still finish, rolls back instead of committing (a stalled database leaves no
        trace). A ``short`` read on SQLite runs on the event loop instead: an embedded database in WAL
        mode never makes a reader wait (no network, no lock), and a key lookup costs less than the
        hop to a thread and back (~80 µs); it uses the connection the loop keeps
        (``Database.kept_read``). Long reads (reports) stay on threads, where SQLite works without
        holding the interpreter lock."""
        if short and not write and self.db.embedded:
            with self.db.kept_read() as session:
                return work(session, self.now())
        late = threading.Event()

        def unit_of_work() -> T:
            with self.db.transaction(write=write, abandoned=late.is_set) as session:
                return work(session, self.now())

        try:
            return await asyncio.wait_for(
                anyio.to_thread.run_sync(
                    unit_of_work, abandon_on_cancel=True, limiter=self._short_lane() if short else self._limiter()
                ),
                timeout or self.settings.request_timeout,
            )
        except TimeoutError:
            late.set()
            raise Unavailable.now() from None


def _limiter_of(ctx: AppContext) -> anyio.CapacityLimiter:
    if ctx._threads is None:
        ctx._threads = anyio.CapacityLimiter(ctx.settings.db_threads)
    return ctx._threads


async def context(request: Request) -> AppContext:
    """The app's context. A coroutine on purpose: FastAPI runs a plain function dependency on a
    worker thread, a hop that costs more than most requests' own work."""
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
        found = await ctx.run(lambda s, _now: principal_for(s, access_token=token, now=now), write=False, short=True)
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


async def authorize(request: Request, operation: str) -> tuple[Principal, AppContext]:
    """The first step of every SP-API operation: authenticate the caller, check the role, apply the
    operation's usage plan. Called from the route rather than injected: FastAPI's dependency
    resolution cost more per request than reading one job."""
    ctx: AppContext = request.app.state.ctx
    principal = await _authenticate(request, ctx)
    rate, burst = RATE_LIMITS[operation]
    scale = ctx.settings.rate_limit_scale
    request.state.rate_limit = f"{rate * scale:.1f}"
    if ctx.limiter is not None:
        key = f"{principal.seller_id}:{principal.client_id}:{operation}"
        if not await ctx.limiter.acquire(key, rate * scale, max(1, round(burst * scale))):
            raise QuotaExceeded(ErrorItem("QuotaExceeded", "You exceeded your quota for the requested resource.", ""))
    return principal, ctx


async def require_operator_key(request: Request, ctx: AppContext = Depends(context)) -> None:
    """Dependency for the operator API: ``Authorization: Bearer <operator key>``."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    expected = ctx.settings.resolved_operator_key
    if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), expected.encode()):
        raise Unauthenticated(ErrorItem("Unauthorized", _DENIED, "A valid operator key is required."))
