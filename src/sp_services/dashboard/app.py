"""The dispatcher dashboard, served by the API's own process at /dashboard (docs/design.md §8).

``install(app)`` adds its routes, its static files (with the vendored htmx, uPlot and Swagger UI)
and the handler for its refusals. A new page is a module in ``pages/`` with a ``router`` and a
``PAGE``, and its template: list the module in ``PAGES`` below and it is in the navigation.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sp_services.dashboard import actions, docs, login
from sp_services.dashboard.auth import Refused
from sp_services.dashboard.pages import capacity, demand, jobs, payments, technicians, today
from sp_services.dashboard.web import HERE, NAVIGATION, STATIC_PATH, render

PAGES = (today, jobs, capacity, technicians, demand, payments)

router = APIRouter(prefix="/dashboard", include_in_schema=False)
router.include_router(login.router)
for _module in PAGES:
    router.include_router(_module.router)
    NAVIGATION.add(_module.PAGE)
router.include_router(actions.router)


@router.get("")
async def home() -> Response:
    return RedirectResponse(today.PAGE.path, status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    """Not logged in: to the login page (and back here afterwards). Anything else: a page saying why."""
    assert isinstance(exc, Refused)
    if exc.login:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": "/dashboard/login"})
        return RedirectResponse(f"/dashboard/login?{urlencode({'next': target})}", status_code=303)
    return render(request, "error.html", {"heading": "Refused", "text": exc.message}, status=exc.status)


def install(app: FastAPI) -> None:
    """Serve the dashboard, its static files, ``/`` and ``/docs`` from ``app``."""
    app.include_router(docs.router)
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="dashboard-static")
    app.add_exception_handler(Refused, _refused)
