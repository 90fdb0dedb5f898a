"""Sessions, CSRF, roles and isolation over plain HTTP (no JavaScript: the forms' own path)."""

from __future__ import annotations

import hashlib
import re
from contextlib import closing
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from sp_services.persistence import tables as t
from tests.dashboard.helpers import User, api_job, create_user, csrf_of, http_login
from tests.support import Server, World, start_server


def _cancel(client: httpx.Client, job_id: str, **extra: str) -> httpx.Response:
    return client.post(f"/dashboard/jobs/{job_id}/cancel", data={"reason_code": "S15", **extra})


def test_pages_need_a_session(server: Server) -> None:
    response = httpx.get(f"{server.url}/dashboard/jobs?asins=B000000001")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fjobs%3Fasins%3DB000000001"
    htmx = httpx.get(f"{server.url}/dashboard/today", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == "/dashboard/login"
    post = httpx.post(f"{server.url}/dashboard/jobs/x/cancel", data={"reason_code": "S1"})
    assert post.status_code == 403


def test_a_login_sets_a_signed_http_only_lax_cookie_and_keeps_only_a_hash(server: Server, dispatcher: User) -> None:
    client, response = http_login(server, dispatcher)
    with closing(client):
        assert response.status_code == 303 and response.headers["location"] == "/dashboard/today"
        header = response.headers["set-cookie"]
        assert re.search(r"spd_session=[^;]+; HttpOnly; Max-Age=43200; Path=/dashboard; SameSite=lax", header)
        assert "Secure" not in header
        session_id, _, signature = client.cookies["spd_session"].rpartition(".")
        assert len(session_id) >= 40 and signature
        with server.db.transaction(write=False) as s:
            stored = set(s.scalars(select(t.DashboardSession.session_hash)))
        assert hashlib.sha256(session_id.encode()).hexdigest() in stored
        assert session_id not in stored
        # A cookie whose signature does not hold is no session.
        client.cookies.set("spd_session", f"{session_id}.forged", path="/dashboard")
        assert client.get("/dashboard/today").status_code == 303


def test_the_cookie_is_secure_behind_https(server: Server, dispatcher: User, tmp_path: Path) -> None:
    def behind_https(app: FastAPI) -> None:
        ctx = app.state.ctx
        ctx.settings = ctx.settings.model_copy(update={"public_url": "https://dispatch.example"})

    https = start_server(server.db, tmp_path, behind_https)
    try:
        form = httpx.get(f"{https.url}/dashboard/login")
        assert "Secure" in form.headers["set-cookie"]
        nonce = form.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        # Sent by hand: a client keeps Secure cookies for https:// only, and this test server is http.
        response = httpx.post(
            f"{https.url}/dashboard/login",
            data={"email": dispatcher.email, "password": dispatcher.password, "csrf_token": csrf_of(form.text)},
            headers={"cookie": f"spd_login={nonce}"},
        )
    finally:
        https.stop()
    assert response.status_code == 303
    assert re.search(
        r"spd_session=[^;]+; HttpOnly; Max-Age=43200; Path=/dashboard; SameSite=lax; Secure",
        response.headers["set-cookie"],
    )


def test_the_login_form_needs_its_token(server: Server, dispatcher: User) -> None:
    with httpx.Client(base_url=server.url) as client:
        missing = client.post("/dashboard/login", data={"email": dispatcher.email, "password": dispatcher.password})
        assert missing.status_code == 403
        client.get("/dashboard/login")
        wrong = client.post(
            "/dashboard/login",
            data={"email": dispatcher.email, "password": dispatcher.password, "csrf_token": "forged"},
        )
        assert wrong.status_code == 403
        assert "spd_session" not in client.cookies


def test_a_post_without_the_sessions_csrf_token_is_refused(server: Server, world: World, dispatcher: User) -> None:
    (job_id,) = world.job()
    client, _ = http_login(server, dispatcher)
    other, _ = http_login(server, dispatcher)
    with closing(client), closing(other):
        token = csrf_of(client.get(f"/dashboard/jobs/{job_id}").text)
        someone_elses = csrf_of(other.get(f"/dashboard/jobs/{job_id}").text)
        assert token != someone_elses
        assert _cancel(client, job_id).status_code == 403
        refused = _cancel(client, job_id, csrf_token="forged")
        assert refused.status_code == 403 and "CSRF" in refused.text
        assert _cancel(client, job_id, csrf_token=someone_elses).status_code == 403
        assert api_job(world, job_id)["serviceJobStatus"] == "PENDING_SCHEDULE"
        done = client.post(
            f"/dashboard/jobs/{job_id}/cancel", data={"reason_code": "S15"}, headers={"X-CSRF-Token": token}
        )
        assert done.status_code == 303 and done.headers["location"] == f"/dashboard/jobs/{job_id}"
        assert api_job(world, job_id)["serviceJobStatus"] == "CANCELLED"
        # Redirect-after-POST: the outcome is on the next page, once.
        shown = client.get(done.headers["location"])
        assert "The job is cancelled with reason S15." in shown.text
        assert "The job is cancelled with reason S15." not in client.get(done.headers["location"]).text


def test_a_viewer_reads_but_cannot_act(server: Server, world: World, viewer: User) -> None:
    (job_id,) = world.job()
    client, _ = http_login(server, viewer)
    with closing(client):
        page = client.get(f"/dashboard/jobs/{job_id}")
        assert page.status_code == 200 and "cancel-form" not in page.text
        refused = _cancel(client, job_id, csrf_token=csrf_of(page.text))
        assert refused.status_code == 403 and "viewer" in refused.text
    assert api_job(world, job_id)["serviceJobStatus"] == "PENDING_SCHEDULE"


def test_logout_ends_the_session_on_the_server(server: Server, dispatcher: User) -> None:
    client, _ = http_login(server, dispatcher)
    with closing(client):
        kept = client.cookies["spd_session"]
        page = client.get("/dashboard/today")
        out = client.post("/dashboard/logout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
    again = httpx.get(f"{server.url}/dashboard/today", cookies={"spd_session": kept})
    assert again.status_code == 303 and again.headers["location"].startswith("/dashboard/login")


def test_each_login_is_a_new_session(server: Server, dispatcher: User) -> None:
    first, _ = http_login(server, dispatcher)
    second, _ = http_login(server, dispatcher)
    with closing(first), closing(second):
        assert first.cookies["spd_session"] != second.cookies["spd_session"]
        # Logging in again from a browser that had a session ends that session.
        old = first.cookies["spd_session"]
        form = first.get("/dashboard/login")
        again = first.post(
            "/dashboard/login",
            data={"email": dispatcher.email, "password": dispatcher.password, "csrf_token": csrf_of(form.text)},
        )
        assert again.status_code == 303 and first.cookies["spd_session"] != old
    assert httpx.get(f"{server.url}/dashboard/today", cookies={"spd_session": old}).status_code == 303


def test_login_goes_back_only_to_the_dashboard(server: Server, dispatcher: User) -> None:
    for target, landing in (
        ("/dashboard/jobs?asins=B000000001", "/dashboard/jobs?asins=B000000001"),
        ("//evil.example/dashboard/", "/dashboard/today"),
        ("https://evil.example/", "/dashboard/today"),
        ("/dashboard/\\evil", "/dashboard/today"),
    ):
        with httpx.Client(base_url=server.url) as client:
            form = client.get("/dashboard/login", params={"next": target})
            response = client.post(
                "/dashboard/login",
                data={
                    "email": dispatcher.email,
                    "password": dispatcher.password,
                    "csrf_token": csrf_of(form.text),
                    "next": target,
                },
            )
        assert response.headers["location"] == landing, target


def test_another_sellers_job_is_404_to_actions_too(
    server: Server, world: World, other_world: World, dispatcher: User
) -> None:
    (theirs,) = other_world.job()
    client, _ = http_login(server, dispatcher)
    with closing(client):
        token = csrf_of(client.get("/dashboard/today").text)
        unknown = _cancel(client, "no-such-job", csrf_token=token)
        foreign = _cancel(client, theirs, csrf_token=token)
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.text == unknown.text
        assert client.get(f"/dashboard/jobs/{theirs}").text == client.get("/dashboard/jobs/no-such-job").text
    assert api_job(other_world, theirs)["serviceJobStatus"] == "PENDING_SCHEDULE"


def test_pages_forbid_framing_and_foreign_scripts(server: Server, dispatcher: User) -> None:
    client, _ = http_login(server, dispatcher)
    with closing(client):
        page = client.get("/dashboard/today")
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self';")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # only <script src=…> from this server


def test_users_see_only_their_sellers_jobs(server: Server, world: World, other_world: World) -> None:
    mine, theirs = set(world.job(order_jobs=2)), set(other_world.job(order_jobs=3))
    user = create_user(server, world, "viewer")
    client, _ = http_login(server, user)
    with closing(client):
        listed = set(re.findall(r'<tr data-job="([^"]+)"', client.get("/dashboard/jobs").text))
        today = set(re.findall(r'<tr data-job="([^"]+)"', client.get("/dashboard/today").text))
    assert listed == today == mine
    assert not listed & theirs
