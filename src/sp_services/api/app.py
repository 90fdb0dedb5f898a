"""The application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from sp_services import __version__
from sp_services.api import errors, openapi
from sp_services.api.context import AppContext, system_clock
from sp_services.api.documents_cache import DEFAULT_CAPACITY, JobDocuments
from sp_services.api.middleware import PlatformMiddleware
from sp_services.api.ratelimit import Limiter, MemoryLimiter, RedisLimiter
from sp_services.api.routes import (
    analytics,
    appointments,
    capacity,
    capacity_analytics,
    documents,
    health,
    jobs,
    lwa,
    operator,
    reports,
    reservations,
    slots,
)
from sp_services.dashboard import app as dashboard
from sp_services.persistence.db import Database
from sp_services.services.documents import DocumentStore
from sp_services.settings import Settings


def make_limiter(settings: Settings) -> Limiter | None:
    """No limiter when rate limiting is off; Redis when configured (several workers); else in-process."""
    if settings.rate_limit == "off":
        return None
    if settings.redis_url:
        return RedisLimiter(settings.redis_url)
    return MemoryLimiter()


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, clock: Callable[[], datetime] = system_clock
) -> FastAPI:
    """Build the ASGI app. Tests pass their own database and clock."""
    settings = settings or Settings()
    logging.getLogger("sp_services").setLevel(logging.INFO)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        limiter = app.state.ctx.limiter
        if limiter is not None:
            await limiter.aclose()

    app = FastAPI(
        lifespan=lifespan,
        title="Selling Partner API for Services (sp-services)",
        version=__version__,
        description="A stateful, wire-compatible implementation of the SP-API Services API v1.",
        # /docs is the dashboard's, with Swagger UI served from this process (no CDN); no ReDoc.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = AppContext(
        settings=settings,
        db=db or Database.configured(settings),
        limiter=make_limiter(settings),
        document_store=DocumentStore.configured(settings),
        clock=clock,
        job_documents=JobDocuments(DEFAULT_CAPACITY if settings.read_cache == "on" else 0),
    )
    errors.install(app)
    # Routes are matched in order: the most asked for first (each miss costs a few microseconds).
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(slots.router)
    app.include_router(appointments.router)
    app.include_router(lwa.router)
    app.include_router(documents.router)
    app.include_router(documents.uploads)
    app.include_router(capacity.router)
    app.include_router(reservations.router)
    app.include_router(operator.router)
    app.include_router(capacity_analytics.router)
    app.include_router(analytics.router)
    app.include_router(reports.router)
    dashboard.install(app)  # /dashboard, its static files, / and /docs
    app.add_middleware(PlatformMiddleware, max_body_bytes=settings.max_body_bytes)
    openapi.install(app)
    return app


def app_from_env() -> FastAPI:
    """Entry point for ``uvicorn --factory`` (each worker builds its own app from the environment)."""
    app = create_app()
    # What exists now (modules, the model, compiled statements) lives as long as the worker: move it
    # out of the collector's sight, and collect young objects less often. A full collection then
    # walks only what requests allocate, which keeps pauses (the slowest requests) short.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    return app
