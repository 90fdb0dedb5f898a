"""Logging in and out of the dashboard (docs/design.md §8)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sp_services.dashboard import auth
from sp_services.dashboard.auth import Viewer, context_of, signed_in
from sp_services.dashboard.web import message, render
from sp_services.domain.accounts import LOCKOUT, MAX_FAILED_LOGINS
from sp_services.services import accounts

router = APIRouter()
HOME = "/dashboard/today"


def _next(target: str | None) -> str:
    """Where to go after logging in: a dashboard path only (never another site)."""
    if target and target.startswith("/dashboard/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _login_page(request: Request, *, status: int = 200, error: str | None = None, email: str = "") -> HTMLResponse:
    ctx = context_of(request)
    nonce, new = auth.login_nonce(request)
    response = render(
        request,
        "login.html",
        {"csrf": auth.login_token(ctx, nonce), "email": email, "next": _next(request.query_params.get("next"))},
        status=status,
        messages=[message("error", error)] if error else None,
    )
    if new:
        auth.set_login_cookie(response, ctx, nonce)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = context_of(request)
    form = await request.form()
    if not auth.login_token_holds(ctx, request.cookies.get(auth.LOGIN_COOKIE), form.get(auth.CSRF_FIELD)):
        raise auth.Refused(403, "The login form was not sent from this dashboard (missing or wrong CSRF token).")
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    previous = auth.unsigned(ctx, request.cookies.get(auth.SESSION_COOKIE))
    outcome = await ctx.run(
        lambda s, now: accounts.log_in(s, email=email, password=password, now=now, previous=previous)
    )
    if not outcome.ok:
        if outcome.locked_until is not None:
            until = outcome.locked_until.strftime("%H:%M UTC")
            error = (
                f"This account is locked for {int(LOCKOUT.total_seconds() // 60)} minutes after "
                f"{MAX_FAILED_LOGINS} failed logins. Try again after {until}."
            )
        else:
            error = "Wrong email or password."
        return _login_page(request, status=401, error=error, email=email)
    assert outcome.session_id is not None
    response = RedirectResponse(_next(str(form.get("next") or "")), status_code=303)
    auth.set_session_cookie(response, ctx, outcome.session_id)
    response.delete_cookie(auth.LOGIN_COOKIE, path=auth.COOKIE_PATH)
    return response


@router.post("/logout")
async def logout(request: Request, viewer: Viewer = Depends(signed_in)) -> Response:
    await viewer.write(lambda s, _now: accounts.log_out(s, session_id=viewer.session_id))
    response = RedirectResponse("/dashboard/login", status_code=303)
    auth.clear_session_cookie(response, viewer.ctx)
    return response
