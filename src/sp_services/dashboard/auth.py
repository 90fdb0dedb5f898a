"""Dashboard sessions and CSRF (docs/design.md §8).

The session cookie holds a random session id, signed with a key derived from the server secret;
the server keeps only the id's hash (services/accounts.py), so logout or expiry ends it there.
The cookie is HttpOnly, SameSite=Lax, Secure when PUBLIC_URL is https, and scoped to /dashboard.

CSRF: every form carries a token bound to the session, HMAC(key, session id), as a hidden input;
htmx sends the same token in the ``X-CSRF-Token`` header. A POST without it, or with another one,
is refused (403) before anything else happens. The login form, which has no session yet, is bound
the same way to a random nonce kept in a cookie of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from fastapi import Request, Response
from sqlalchemy.orm import Session

from sp_services.api.context import AppContext
from sp_services.domain.accounts import SESSION_LIFETIME, DashboardUser
from sp_services.services import accounts

T = TypeVar("T")

SESSION_COOKIE = "spd_session"
LOGIN_COOKIE = "spd_login"
COOKIE_PATH = "/dashboard"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class Refused(Exception):
    """Ends a dashboard request early: a redirect to the login page, or a plain refusal page
    (dashboard/app.py turns it into the response)."""

    def __init__(self, status: int, message: str, *, login: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.login = status, message, login


def _key(ctx: AppContext, purpose: bytes) -> bytes:
    """A key of its own for each use, derived from the server secret."""
    return hmac.new(ctx.settings.resolved_secret_key, b"dashboard:" + purpose, hashlib.sha256).digest()


def mac(ctx: AppContext, purpose: bytes, value: str) -> str:
    digest = hmac.new(_key(ctx, purpose), value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def sign(ctx: AppContext, session_id: str) -> str:
    return f"{session_id}.{mac(ctx, b'cookie', session_id)}"


def unsigned(ctx: AppContext, cookie: str | None) -> str | None:
    """The session id in a cookie whose signature holds, else None."""
    if not cookie or "." not in cookie:
        return None
    session_id, _, signature = cookie.rpartition(".")
    return session_id if _same(signature, mac(ctx, b"cookie", session_id)) else None


def secure(ctx: AppContext) -> bool:
    return ctx.settings.public_url.lower().startswith("https://")


def set_session_cookie(response: Response, ctx: AppContext, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign(ctx, session_id),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure(ctx),
    )


def clear_session_cookie(response: Response, ctx: AppContext) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure(ctx))


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request, with its session's CSRF token and the marketplace shown."""

    ctx: AppContext
    user: DashboardUser
    session_id: str
    csrf: str
    marketplace_id: str
    marketplace_ids: tuple[str, ...]

    @property
    def seller_id(self) -> str:
        return self.user.seller_id

    @property
    def can_act(self) -> bool:
        return self.user.role.can_act

    async def read(self, work: Callable[[Session, datetime], T], *, analytics: bool = False) -> T:
        """One read-only unit of work (``analytics``: with the analytics operations' time budget)."""
        timeout = self.ctx.settings.analytics_timeout if analytics else None
        return await self.ctx.run(work, write=False, timeout=timeout)

    async def write(self, work: Callable[[Session, datetime], T]) -> T:
        """One unit of work that may change state, committed once (api/context.py)."""
        return await self.ctx.run(work, write=True)


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def signed_in(request: Request) -> Viewer:
    """Dependency of every dashboard page: the session's user, else a redirect to the login page."""
    ctx = context_of(request)
    session_id = unsigned(ctx, request.cookies.get(SESSION_COOKIE))
    found = (
        await ctx.run(lambda s, now: accounts.signed_in(s, session_id=session_id, now=now), write=False)
        if session_id
        else None
    )
    if session_id is None or found is None:
        if request.method == "POST":
            raise Refused(403, "Your session has ended: log in again.")
        raise Refused(303, "Log in to continue.", login=True)
    wanted = request.query_params.get("marketplace")
    markets = found.marketplace_ids
    marketplace_id = wanted if wanted in markets else (markets[0] if markets else "")
    viewer = Viewer(ctx, found.user, session_id, mac(ctx, b"csrf", session_id), marketplace_id, markets)
    if request.method == "POST":
        await check_csrf(request, viewer.csrf)
    return viewer


async def dispatcher(request: Request) -> Viewer:
    """Dependency of every action: a signed-in dispatcher (a viewer's POST is refused, 403)."""
    viewer = await signed_in(request)
    if not viewer.can_act:
        raise Refused(403, "Your role is viewer: it cannot change jobs.")
    return viewer


async def check_csrf(request: Request, expected: str) -> None:
    """403 unless the request carries ``expected`` in the header or the form."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not _same(sent, expected):
        raise Refused(403, "The form was not sent from this dashboard (missing or wrong CSRF token).")


def login_nonce(request: Request) -> tuple[str, bool]:
    """The login form's nonce (from its cookie, or a new one) and whether it is new."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    if nonce and 20 <= len(nonce) <= 100:
        return nonce, False
    return secrets.token_urlsafe(24), True


def login_token(ctx: AppContext, nonce: str) -> str:
    return mac(ctx, b"login", nonce)


def login_token_holds(ctx: AppContext, nonce: str | None, sent: object) -> bool:
    return nonce is not None and isinstance(sent, str) and _same(sent, login_token(ctx, nonce))


def set_login_cookie(response: Response, ctx: AppContext, nonce: str) -> None:
    response.set_cookie(LOGIN_COOKIE, nonce, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure(ctx))
