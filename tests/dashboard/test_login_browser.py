"""Logging in, in a real browser: a wrong password, the lock-out after ten, the session cookie."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.dashboard.helpers import User, check_accessibility, log_in, shot
from tests.support import Server, travel


def test_a_wrong_password_is_refused_then_the_right_one_logs_in(
    page: Page, server: Server, dispatcher: User, screenshots: Path
) -> None:
    log_in(page, server, dispatcher, password="not the password at all")
    expect(page.locator(".message.error")).to_have_text("Wrong email or password.")
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "login-refused")
    log_in(page, server, dispatcher)
    expect(page.locator("h1")).to_have_text("Today")
    expect(page.locator("header .who")).to_contain_text(dispatcher.email)
    cookie = next(c for c in page.context.cookies() if c["name"] == "spd_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/dashboard"
    assert cookie["secure"] is False  # PUBLIC_URL is http:// here (tests/dashboard/test_http_auth.py: https)


def test_ten_failures_lock_the_account_for_fifteen_minutes(page: Page, server: Server, dispatcher: User) -> None:
    for attempt in range(9):
        log_in(page, server, dispatcher, password=f"wrong guess number {attempt}")
        expect(page.locator(".message.error")).to_have_text("Wrong email or password.")
    log_in(page, server, dispatcher, password="the tenth wrong guess")
    locked = page.locator(".message.error")
    expect(locked).to_contain_text("This account is locked for 15 minutes after 10 failed logins.")
    # While locked, the right password is refused too.
    log_in(page, server, dispatcher, password=dispatcher.password)
    expect(locked).to_contain_text("This account is locked")
    travel(server, server.clock() + timedelta(minutes=14))
    log_in(page, server, dispatcher, password=dispatcher.password)
    expect(locked).to_contain_text("This account is locked")
    travel(server, server.clock() + timedelta(minutes=1, seconds=5))
    log_in(page, server, dispatcher)
    expect(page.locator("h1")).to_have_text("Today")


def test_the_session_id_changes_at_login(page: Page, server: Server, dispatcher: User) -> None:
    """Session fixation: a session id planted before login is never the one used after it."""
    planted = "planted-session-id.planted-signature"
    page.context.add_cookies([{"name": "spd_session", "value": planted, "domain": "127.0.0.1", "path": "/dashboard"}])
    log_in(page, server, dispatcher)
    first = next(c["value"] for c in page.context.cookies() if c["name"] == "spd_session")
    assert first != planted
    page.click("text=Log out")
    page.wait_for_url("**/dashboard/login")
    log_in(page, server, dispatcher)
    second = next(c["value"] for c in page.context.cookies() if c["name"] == "spd_session")
    assert second not in (first, planted)
    # The session ended at logout is worth nothing, even with its cookie put back.
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "spd_session", "value": first, "domain": "127.0.0.1", "path": "/dashboard"}])
    page.goto(f"{server.url}/dashboard/today")
    expect(page).to_have_url(f"{server.url}/dashboard/login?next=%2Fdashboard%2Ftoday")
