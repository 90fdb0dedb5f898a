"""What the database holds is shown as text (a buyer named ``<script>…``), and another seller's job
id in a URL answers 404 and tells nothing: in a real browser."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.dashboard.helpers import US, User, log_in, operator, shot
from tests.support import Server, World

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'


def _hostile_job(server: Server, world: World) -> str:
    with operator(server) as op:
        response = op.post(
            "/operator/v1/serviceOrders",
            json={
                "sellerId": world.seller_id,
                "marketplaceId": US,
                "storeId": world.store_id,
                "buyer": {"buyerId": "B1", "name": SCRIPT},
                "serviceLocation": {"serviceLocationType": "IN_HOME", "address": {"name": "x", "addressLine1": IMAGE}},
                "jobs": [{"asin": world.asin}],
            },
        )
    assert response.status_code == 201, response.text
    job_id: str = response.json()["jobs"][0]["serviceJobId"]
    return job_id


def _scripts_run(page: Page) -> bool:
    return bool(page.evaluate("() => [...document.scripts].some(s => s.textContent.includes('alert('))"))


def test_a_hostile_buyer_is_shown_as_text(
    page: Page, server: Server, world: World, dispatcher: User, dialogs: list[str], screenshots: Path
) -> None:
    job_id = _hostile_job(server, world)
    log_in(page, server, dispatcher)
    expect(page.locator(f"tr[data-job='{job_id}'] td").nth(4)).to_have_text(SCRIPT)  # Today: unscheduled
    page.goto(f"{server.url}/dashboard/jobs")
    expect(page.locator(f"tr[data-job='{job_id}'] td").nth(4)).to_have_text(SCRIPT)
    page.goto(f"{server.url}/dashboard/jobs/{job_id}")
    expect(page.locator("dd.buyer")).to_have_text(SCRIPT)
    expect(page.locator("dl.summary")).to_contain_text(IMAGE)
    assert page.locator("img").count() == 0
    assert not _scripts_run(page)
    page.wait_for_timeout(200)
    assert dialogs == []
    shot(page, screenshots, server, "job-hostile-buyer")


def test_another_sellers_job_is_not_found_and_nothing_is_said_of_it(
    page: Page, server: Server, world: World, other_world: World, dispatcher: User
) -> None:
    (theirs,) = other_world.job()
    log_in(page, server, dispatcher)
    response = page.goto(f"{server.url}/dashboard/jobs/{theirs}")
    assert response is not None and response.status == 404
    foreign = page.locator("main").inner_text()
    unknown_response = page.goto(f"{server.url}/dashboard/jobs/{theirs[:-4]}zzzz")
    assert unknown_response is not None and unknown_response.status == 404
    assert page.locator("main").inner_text() == foreign  # the same page for both
    for secret in (other_world.asin, other_world.store_id, "Test Buyer", "PENDING_SCHEDULE", theirs):
        assert secret not in foreign
    page.goto(f"{server.url}/dashboard/jobs?serviceOrderIds=&storeIds={other_world.store_id}")
    expect(page.locator("[data-total]")).to_have_text("0")
