"""LWA-compatible token endpoint: ``POST /auth/o2/token`` (refresh_token grant)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from sp_services.api.context import AppContext, context
from sp_services.domain.errors import Unavailable
from sp_services.services.auth import IssuedToken, LwaError, exchange_refresh_token

router = APIRouter(tags=["Login with Amazon"])
log = logging.getLogger("sp_services.api")


async def _form(request: Request) -> dict[str, str]:
    """Form-encoded (the LWA standard) or JSON (some SDKs send that)."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, RecursionError):
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _lwa_error(error: LwaError) -> JSONResponse:
    return JSONResponse(
        {"error": error.code, "error_description": error.description},
        status_code=error.status,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/auth/o2/token")
async def token(request: Request, ctx: AppContext = Depends(context)) -> JSONResponse:
    form = await _form(request)
    grant_type = form.get("grant_type")
    if grant_type != "refresh_token":
        return _lwa_error(
            LwaError(
                400,
                "unsupported_grant_type" if grant_type else "invalid_request",
                "The authorization grant type is not supported by the authorization server"
                if grant_type
                else "The request is missing a required parameter : grant_type",
            )
        )

    def exchange(session: Session, now: datetime) -> IssuedToken:
        return exchange_refresh_token(
            session,
            client_id=form.get("client_id"),
            client_secret=form.get("client_secret"),
            refresh_token=form.get("refresh_token"),
            ttl_seconds=ctx.settings.access_token_ttl_seconds,
            now=now,
        )

    try:
        issued = await ctx.run(exchange)
    except LwaError as error:
        return _lwa_error(error)
    except (Unavailable, OperationalError):
        # LWA clients read LWA's error shape, also when the database is down or stalled.
        log.warning("token endpoint: database unavailable")
        unavailable = LwaError(503, "temporarily_unavailable", "The authorization server is temporarily unavailable.")
        return _lwa_error(unavailable)
    return JSONResponse(
        {
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
