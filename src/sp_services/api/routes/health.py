"""Liveness and readiness: ``/healthz`` (the process answers; touches nothing) and ``/readyz``
(the database answers, and Redis when configured). Neither needs a token or counts against a
rate limit; load balancers and orchestrators poll them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from sp_services.api import wire
from sp_services.api.context import AppContext, context
from sp_services.domain.errors import ErrorItem, Unavailable
from sp_services.persistence.repositories.platform import PlatformRepository

router = APIRouter(tags=["health"])

# A readiness probe answers fast or not at all: 503 within this many seconds when a backing
# service stalls (well inside a load balancer's usual probe timeout).
READY_TIMEOUT_SECONDS = 1.5
_ALIVE = b'{"status":"ok"}'


@router.get("/healthz", summary="Liveness: the process answers (no database, no token)")
async def healthz() -> Response:
    return Response(_ALIVE, media_type="application/json")


@router.get("/readyz", summary="Readiness: the database (and Redis, when configured) answer")
async def readyz(ctx: AppContext = Depends(context)) -> Response:
    checks: dict[str, str] = {}
    try:
        await ctx.run(lambda s, _now: PlatformRepository(s).ping(), write=False, timeout=READY_TIMEOUT_SECONDS)
        checks["database"] = "ok"
    except Exception as error:  # whatever the driver raises, the answer is "not ready"
        raise _not_ready("database", error) from None
    try:
        shared = await ctx.limiter.ping() if ctx.limiter is not None else None
    except Exception as error:
        raise _not_ready("redis", error) from None
    checks["redis"] = "not configured" if shared is None else "ok"
    return wire.JSON({"status": "ready", **checks})


def _not_ready(what: str, error: Exception) -> Unavailable:
    item = Unavailable.now().items[0]
    return Unavailable(ErrorItem(item.code, item.message, f"{what}: {type(error).__name__}"))
