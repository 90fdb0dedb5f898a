"""The front door: ``/`` (to the dashboard, or an index of what is served) and the API docs at
``/docs``, whose Swagger UI is served by this process (static/vendor/swagger-ui), so the docs
work on a machine without internet access."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sp_services.dashboard.web import STATIC_PATH

router = APIRouter(include_in_schema=False)
SWAGGER = f"{STATIC_PATH}/vendor/swagger-ui"
INDEX = {"dashboard": "/dashboard", "docs": "/docs", "openapi": "/openapi.json"}


@router.get("/")
async def index(request: Request) -> Response:
    """A browser goes to the dashboard; any other client gets the index of what is served."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/dashboard", status_code=303)
    return JSONResponse(INDEX)


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} — API docs",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        # No badge from the public validator service: the page asks nothing of other hosts.
        swagger_ui_parameters={"validatorUrl": None},
    )
