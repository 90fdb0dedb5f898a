"""The front door and /docs (served offline: Swagger UI from this process), and every page checked
with axe-core and photographed, in a real browser."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.dashboard.helpers import User, check_accessibility, log_in, shot
from tests.operations import OPERATIONS
from tests.support import Server, World


def test_docs_render_every_operation_from_this_server_only(page: Page, server: Server, screenshots: Path) -> None:
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server.url, "data:", "blob:")) else elsewhere.append(r.url))
    page.goto(f"{server.url}/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    for operation in OPERATIONS:
        expect(page.locator(f".opblock[id$='-{operation.operation_id}']")).to_have_count(1)
    assert len(OPERATIONS) == 17
    assert elsewhere == []
    shot(page, screenshots, server, "docs")


def test_the_docs_page_names_only_local_assets(server: Server) -> None:
    html = httpx.get(f"{server.url}/docs").text
    assert "/dashboard/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/dashboard/static/vendor/swagger-ui/swagger-ui.css" in html
    assert "http://" not in html and "https://" not in html
    assert httpx.get(f"{server.url}/redoc").status_code == 404
    bundle = httpx.get(f"{server.url}/dashboard/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert httpx.get(f"{server.url}/dashboard/static/vendor/swagger-ui/LICENSE").status_code == 200


def test_the_front_door(server: Server) -> None:
    browser = httpx.get(f"{server.url}/", headers={"accept": "text/html,application/xhtml+xml"})
    assert browser.status_code == 303 and browser.headers["location"] == "/dashboard"
    index = httpx.get(f"{server.url}/", headers={"accept": "application/json"})
    assert index.status_code == 200
    assert index.json() == {"dashboard": "/dashboard", "docs": "/docs", "openapi": "/openapi.json"}
    home = httpx.get(f"{server.url}/dashboard")
    assert home.status_code == 303 and home.headers["location"] == "/dashboard/today"


def test_every_page_is_accessible(
    page: Page, server: Server, world: World, dispatcher: User, screenshots: Path
) -> None:
    """axe-core: no serious or critical violation on any page (the job page and the others are
    checked in their own tests too, with the data those put on them)."""
    (job_id,) = world.job()
    page.goto(f"{server.url}/dashboard/login")
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "login")
    log_in(page, server, dispatcher)
    visited = {
        "today-empty": "/dashboard/today?need=late",
        "jobs-all": "/dashboard/jobs",
        "job-pending": f"/dashboard/jobs/{job_id}",
        "capacity": "/dashboard/capacity",
        "technicians-empty": "/dashboard/technicians",
        "demand-empty": "/dashboard/demand?groupBy=week",
        "payments-empty": "/dashboard/payments?groupBy=none",
        "payments-refused": "/dashboard/payments?startDate=2026-02-30",
        "not-found": "/dashboard/jobs/no-such-job",
    }
    for name, path in visited.items():
        page.goto(f"{server.url}{path}")
        assert check_accessibility(page) == [], name
        shot(page, screenshots, server, name)
    # The navigation names exactly the pages that exist.
    links = page.locator("header nav a")
    assert [links.nth(i).inner_text() for i in range(links.count())] == [
        "Today",
        "Jobs",
        "Capacity",
        "Technicians",
        "Demand vs capacity",
        "Payments",
    ]
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        assert httpx.get(f"{server.url}{href}", cookies=_cookies(page)).status_code == 200


def _cookies(page: Page) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}
