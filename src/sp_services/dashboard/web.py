"""Rendering for the dashboard: the Jinja2 environment (autoescape on), the navigation, flash
messages that survive a redirect, and the headers every page is sent with.

A page is a route module in ``pages/`` with a template in ``templates/``: it declares its
``Page`` (path, label, order) and dashboard/app.py lists it, which puts it in the navigation.
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sp_services.dashboard.auth import COOKIE_PATH, Viewer, context_of, mac, secure

HERE = Path(__file__).parent
STATIC_PATH = "/dashboard/static"
FLASH_COOKIE = "spd_flash"

# Scripts and styles come only from this server (no inline script, no CDN); the page may not be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Page:
    """A navigation entry: a page of the dashboard."""

    path: str
    label: str
    order: int


def _local(instant: datetime | None, timezone: str | None = None) -> str:
    """An instant in a store's local time (``Mon 07 Dec 2026 10:00 EST``), or in UTC."""
    if instant is None:
        return "—"
    zone = ZoneInfo(timezone) if timezone else UTC
    local = instant.astimezone(zone)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def _utc(instant: datetime | None) -> str:
    return "" if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _minutes(value: int) -> str:
    """Capacity-minutes as hours and minutes (``7h 30m``)."""
    sign, value = ("-" if value < 0 else ""), abs(value)
    hours, minutes = divmod(value, 60)
    return f"{sign}{hours}h {minutes:02d}m" if hours else f"{sign}{minutes}m"


ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["local"] = _local
ENV.filters["utc"] = _utc
ENV.filters["minutes"] = _minutes
ENV.globals["static"] = lambda name: f"{STATIC_PATH}/{name}"


class Navigation:
    """The pages in the navigation, in order; dashboard/app.py registers them."""

    def __init__(self) -> None:
        self.pages: list[Page] = []

    def add(self, page: Page) -> None:
        self.pages.append(page)
        self.pages.sort(key=lambda p: p.order)


NAVIGATION = Navigation()


def query(viewer: Viewer, **params: Any) -> str:
    """A query string keeping the viewer's marketplace (when the seller has several)."""
    values = {k: v for k, v in params.items() if v not in (None, "")}
    if len(viewer.marketplace_ids) > 1:
        values.setdefault("marketplace", viewer.marketplace_id)
    return ("?" + urlencode(values, doseq=True)) if values else ""


def flash(
    response: HTMLResponse | Any, request: Request, level: str, text: str, items: list[str] | None = None
) -> None:
    """Keep a message for the next page this browser renders (after a redirect), signed."""
    ctx = context_of(request)
    # Base64 keeps the cookie value free of quotes and separators; the MAC keeps it ours.
    text_json = json.dumps({"level": level, "text": text, "items": items or []}, separators=(",", ":"))
    payload = base64.urlsafe_b64encode(text_json.encode()).decode().rstrip("=")
    response.set_cookie(
        FLASH_COOKIE,
        f"{mac(ctx, b'flash', payload)}.{payload}",
        max_age=60,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure(ctx),
    )


def _taken_flash(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    signature, _, payload = raw.partition(".")
    if not hmac.compare_digest(signature.encode(), mac(context_of(request), b"flash", payload).encode()):
        return None
    try:
        message = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    messages: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    """A page (or an htmx partial) with the navigation, the viewer, and any flash message."""
    shown = list(messages or [])
    kept = _taken_flash(request)
    if kept is not None:
        shown.insert(0, kept)
    body = ENV.get_template(template).render(
        request_path=request.url.path,
        navigation=NAVIGATION.pages,
        viewer=viewer,
        messages=shown,
        q=(lambda **params: query(viewer, **params)) if viewer else (lambda **params: ""),
        **context,
    )
    response = HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
    if kept is not None:
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    return response


def message(level: str, text: str, items: list[str] | None = None) -> dict[str, Any]:
    return {"level": level, "text": text, "items": items or []}


def not_found(request: Request, viewer: Viewer, what: str) -> HTMLResponse:
    """404 for anything that is not among the viewer's seller's: the same page whether it exists
    elsewhere or nowhere, so another seller's id reveals nothing."""
    return render(
        request,
        "error.html",
        {"heading": "Not found", "text": f"There is no such {what} among yours."},
        viewer=viewer,
        status=404,
    )
