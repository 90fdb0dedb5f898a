"""Helpers for the dashboard tests: users, logging in (browser and plain HTTP), axe-core checks,
screenshots, and the API calls the tests compare the pages with."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page

from sp_services.services import accounts
from tests.support import OPERATOR_KEY, Server, World

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
US = "ATVPDKIKX0DER"


@dataclass(frozen=True)
class User:
    email: str
    password: str
    seller_id: str


def create_user(server: Server, world: World, role: str, *, password: str = PASSWORD) -> User:
    """A dashboard user of the world's seller, made through the accounts service."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    with server.db.transaction() as session:
        accounts.create_user(
            session, seller_id=world.seller_id, email=email, role=role, password=password, now=server.clock()
        )
    return User(email, password, world.seller_id)


def log_in(page: Page, server: Server, user: User, *, password: str | None = None) -> None:
    """Log in through the login form (and land on Today)."""
    page.goto(f"{server.url}/dashboard/login")
    page.fill("#email", user.email)
    page.fill("#password", password or user.password)
    page.click("form[action='/dashboard/login'] button[type=submit]")
    if password is None:
        page.wait_for_url("**/dashboard/today")


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def http_login(server: Server, user: User, *, password: str | None = None) -> tuple[httpx.Client, httpx.Response]:
    """A plain HTTP client that logged in through the form; the answer to the login POST."""
    client = httpx.Client(base_url=server.url, timeout=30)
    form = client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={"email": user.email, "password": password or user.password, "csrf_token": csrf_of(form.text)},
    )
    return client, response


def check_accessibility(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands (none expected)."""
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def shot(page: Page, directory: Path, server: Server, name: str) -> Path:
    """A full-page screenshot, named by backend and page."""
    backend = "postgres" if server.db.url.startswith("postgresql") else "sqlite"
    path = directory / f"{backend}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def operator(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {OPERATOR_KEY}"}, timeout=30)


def api_job(world: World, job_id: str) -> dict[str, Any]:
    with world.client() as api:
        response = api.get(f"/service/v1/serviceJobs/{job_id}")
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["payload"]
    return payload


def api_jobs(world: World, **params: Any) -> list[dict[str, Any]]:
    """Every job getServiceJobs lists for these filters (all pages)."""
    out: list[dict[str, Any]] = []
    token = None
    with world.client() as api:
        while True:
            query = {"marketplaceIds": US, "createdAfter": "2000-01-01T00:00:00Z", **params}
            if token:
                query["pageToken"] = token
            response = api.get("/service/v1/serviceJobs", params=query)
            assert response.status_code == 200, response.text
            payload = response.json()["payload"]
            out += payload.get("jobs", [])
            token = payload.get("nextPageToken")
            if not token:
                return out


def active_appointment(job: dict[str, Any]) -> dict[str, Any] | None:
    return next((a for a in job.get("appointments", []) if a["appointmentStatus"] == "ACTIVE"), None)


def put_schedule(world: World, resource: str, record: dict[str, Any]) -> None:
    """updateSchedule: ``record`` becomes the resource's whole schedule."""
    with world.client() as api:
        response = api.put(
            f"/service/v1/serviceResources/{resource}/schedules",
            params={"marketplaceIds": US},
            json={"schedules": [record]},
        )
    assert response.status_code == 200, response.text
