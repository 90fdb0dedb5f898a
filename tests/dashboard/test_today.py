"""Today, in a real browser: each count and list equals what the Services API says of the same jobs."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from sp_services.domain.enums import JobStatus
from tests.dashboard.helpers import (
    User,
    active_appointment,
    api_jobs,
    check_accessibility,
    http_login,
    log_in,
    shot,
)
from tests.support import Server, World

NEEDS = ("unscheduled", "unassigned", "late", "awaiting-fulfillment", "ready-to-complete")


def _minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_fulfillment(world: World, job_id: str, start: datetime, end: datetime) -> None:
    with world.client() as api:
        appointment = active_appointment(api.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"])
        assert appointment is not None
        response = api.put(
            f"/service/v1/serviceJobs/{job_id}/appointments/{appointment['appointmentId']}/fulfillment",
            json={"fulfillmentTime": {"startTime": _z(start), "endTime": _z(end)}},
        )
    assert response.status_code == 204, response.text


def _a_day_of_needs(world: World, other_world: World) -> set[str]:
    """Jobs on every list (and some on none); returns the ids of those with fulfillment recorded."""
    now = _minute(world.server.clock())
    world.job()
    world.job()
    world.job(starts_at=now + timedelta(days=1))  # booked, nobody assigned
    world.job(JobStatus.NOT_SERVICED)  # booked and assigned: needs nothing
    world.job(starts_at=now - timedelta(minutes=20))  # running, unassigned, nobody started
    world.job(JobStatus.NOT_SERVICED, starts_at=now - timedelta(minutes=25))  # running, assigned, not started
    world.job(JobStatus.NOT_SERVICED, starts_at=now - timedelta(hours=5))  # over, nothing recorded
    ready = world.job(JobStatus.NOT_SERVICED, starts_at=now - timedelta(hours=6))
    early = world.job(JobStatus.NOT_SERVICED, starts_at=now - timedelta(minutes=30))  # running, already done
    world.job(JobStatus.COMPLETED, created_at=now - timedelta(days=1))
    world.job(JobStatus.CANCELLED)
    other_world.job()
    other_world.job(starts_at=now - timedelta(hours=5))
    _record_fulfillment(world, ready[0], now - timedelta(hours=6), now - timedelta(hours=5))
    _record_fulfillment(world, early[0], now - timedelta(minutes=30), now - timedelta(minutes=5))
    return {ready[0], early[0]}


def _expected(world: World, fulfilled: set[str], now: datetime) -> dict[str, set[str]]:
    """Each list's jobs, worked out from getServiceJobs and what this test recorded through the API."""
    lists: dict[str, set[str]] = {n: set() for n in NEEDS}
    lists["unscheduled"] = {j["serviceJobId"] for j in api_jobs(world, serviceJobStatus="PENDING_SCHEDULE")}
    for job in api_jobs(world, serviceJobStatus="NOT_SERVICED"):
        appointment = active_appointment(job)
        assert appointment is not None
        start = datetime.fromisoformat(appointment["appointmentTime"]["startTime"].replace("Z", "+00:00"))
        end = start + timedelta(minutes=appointment["appointmentTime"]["durationInMinutes"])
        job_id = job["serviceJobId"]
        if end > now and not appointment.get("assignedTechnicians"):
            lists["unassigned"].add(job_id)
        if job_id in fulfilled:
            lists["ready-to-complete"].add(job_id)
        elif start <= now < end:
            lists["late"].add(job_id)
        elif end <= now:
            lists["awaiting-fulfillment"].add(job_id)
    return lists


def test_todays_counts_and_lists_are_the_apis(
    page: Page, server: Server, world: World, other_world: World, dispatcher: User, screenshots: Path
) -> None:
    fulfilled = _a_day_of_needs(world, other_world)
    log_in(page, server, dispatcher)
    expected = _expected(world, fulfilled, server.clock())
    assert {n: len(v) for n, v in expected.items()} == {
        "unscheduled": 2,
        "unassigned": 2,
        "late": 2,
        "awaiting-fulfillment": 1,
        "ready-to-complete": 2,
    }
    shown = {n: int(page.locator(f"a[data-need='{n}'] .count").inner_text()) for n in NEEDS}
    assert shown == {n: len(v) for n, v in expected.items()}
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "today")
    for need in NEEDS:
        page.click(f"a[data-need='{need}']")
        expect(page.locator("#list-heading")).to_contain_text(f"({len(expected[need])})")
        rows = page.locator("table.list tbody tr")
        assert {rows.nth(i).get_attribute("data-job") for i in range(rows.count())} == expected[need], need
        # Each list says what it holds.
        assert page.locator("table.list caption").inner_text() == page.locator(f"a[data-need='{need}']").get_attribute(
            "title"
        )


def test_a_long_list_is_paged(server: Server, world: World, dispatcher: User) -> None:
    jobs = set(world.job(order_jobs=23))
    client, _ = http_login(server, dispatcher)
    with closing(client):
        first = client.get("/dashboard/today", params={"need": "unscheduled"})
        assert first.status_code == 200
        on_first = set(_row_jobs(first.text))
        assert len(on_first) == 20
        after = _next_key(first.text)
        second = client.get("/dashboard/today", params={"need": "unscheduled", "after": after})
        on_second = set(_row_jobs(second.text))
    assert len(on_second) == 3
    assert on_first | on_second == jobs
    assert not on_first & on_second
    assert 'rel="next"' not in second.text


def _row_jobs(html: str) -> list[str]:
    return re.findall(r'<tr data-job="([^"]+)"', html)


def _next_key(html: str) -> str:
    found = re.search(r'rel="next" href="([^"]+)"', html)
    assert found
    return parse_qs(urlparse(unescape(found.group(1))).query)["after"][0]
