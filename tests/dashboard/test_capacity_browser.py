"""Capacity, in a real browser: the week calendar holds what getRangeSlotCapacity answers for the
same days, hour by hour, and marks the sold-out and uncovered slots; the chart draws."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.dashboard.helpers import US, User, check_accessibility, log_in, put_schedule, shot
from tests.operations import z
from tests.scenes import monday
from tests.support import Server, World

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
TYPES = {"SCHEDULED_CAPACITY": "scheduled", "RESERVED_CAPACITY": "reserved", "ENCUMBERED_CAPACITY": "booked"}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def _weekdays(world: World, resource: str, day: date, first: int, last: int, capacity: int) -> None:
    """``first``:00 to ``last``:00 New York time, Monday to Friday of ``day``'s week."""
    record = {
        "startTime": z(_at(day, first)),
        "endTime": z(_at(day, last)),
        "capacity": capacity,
        "recurrence": {"endTime": z(_at(day + timedelta(days=6), 23)), "daysOfWeek": WEEKDAYS},
    }
    put_schedule(world, resource, record)


def _a_week(world: World) -> date:
    """The store open 09-17 for two at once, a break at noon on Monday, two bookings at 10:00 on
    Monday, and both technicians working mornings only (so afternoons are uncovered)."""
    day = monday(world.server)
    _weekdays(world, world.store_id, day, 9, 17, 2)
    _weekdays(world, world.technician_ids[0], day, 9, 13, 1)
    _weekdays(world, world.technician_ids[1], day, 9, 11, 1)
    with world.client() as api:
        response = api.post(
            "/service/v1/reservation",
            params={"marketplaceIds": US},
            json={
                "resourceId": world.store_id,
                "reservation": {
                    "type": "BREAK",
                    "availability": {"startTime": z(_at(day, 12)), "endTime": z(_at(day, 12, 30)), "capacity": 1},
                },
            },
        )
        assert response.status_code == 200, response.text
        for job_id in world.job(order_jobs=2):
            booked = api.post(
                f"/service/v1/serviceJobs/{job_id}/appointments",
                json={"appointmentTime": {"startTime": z(_at(day, 10))}},
            )
            assert booked.status_code == 200, booked.text
    return day


def _range(world: World, resource: str, day: date) -> dict[str, list[dict[str, Any]]]:
    with world.client() as api:
        response = api.post(
            f"/service/v1/serviceResources/{resource}/capacity/range",
            params={"marketplaceIds": US},
            json={
                "startDateTime": z(_at(day, 0)),
                "endDateTime": z(_at(day + timedelta(days=7), 0)),
                "capacityTypes": list(TYPES),
            },
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "nextPageToken" not in body
    return {c["capacityType"]: c["slots"] for c in body["capacities"]}


def _per_hour(runs: list[dict[str, Any]], day: date) -> dict[tuple[str, int], int]:
    """Capacity-minutes of the runs in each New York hour of the week, by (date, hour)."""
    out: dict[tuple[str, int], int] = {}
    for run in runs:
        start = datetime.fromisoformat(run["startDateTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(run["endDateTime"].replace("Z", "+00:00"))
        minute = start
        while minute < end:  # a week of minutes: plain and obviously right
            local = minute.astimezone(NEW_YORK)
            key = (local.date().isoformat(), local.hour)
            out[key] = out.get(key, 0) + run["capacity"]
            minute += timedelta(minutes=1)
    return out


def _cells(page: Page) -> dict[tuple[str, int], dict[str, int]]:
    cells = page.locator("#calendar tbody td")
    values = cells.evaluate_all(
        "cells => cells.map(c => [c.dataset.day, +c.dataset.hour, +c.dataset.scheduled, +c.dataset.reserved,"
        " +c.dataset.booked, c.dataset.soldOut === undefined ? null : +c.dataset.soldOut,"
        " c.dataset.uncovered === undefined ? null : +c.dataset.uncovered])"
    )
    return {
        (d, h): {"scheduled": s, "reserved": r, "booked": b, "sold_out": so, "uncovered": u}
        for d, h, s, r, b, so, u in values
    }


def _check_against_the_api(page: Page, world: World, resource: str, day: date) -> dict[tuple[str, int], dict[str, int]]:
    cells = _cells(page)
    runs = _range(world, resource, day)
    for capacity_type, name in TYPES.items():
        expected = _per_hour(runs[capacity_type], day)
        for key, cell in cells.items():
            assert cell[name] == expected.get(key, 0), (capacity_type, key)
    # Every hour with anything in it is on the page.
    busy = {k for k, v in _per_hour(runs["SCHEDULED_CAPACITY"], day).items() if v}
    assert busy <= set(cells)
    return cells


def test_the_store_week_is_what_get_range_slot_capacity_says(
    page: Page, server: Server, world: World, dispatcher: User, screenshots: Path
) -> None:
    day = _a_week(world)
    log_in(page, server, dispatcher)
    page.goto(f"{server.url}/dashboard/capacity?store={world.store_id}&week={day.isoformat()}")
    expect(page.locator("h2").first).to_contain_text(f"week of {day:%d %b %Y}")
    cells = _check_against_the_api(page, world, world.store_id, day)
    monday_ = day.isoformat()
    assert cells[(monday_, 10)]["booked"] == 120 and cells[(monday_, 10)]["sold_out"] == 1
    assert cells[(monday_, 12)]["reserved"] == 30 and cells[(monday_, 12)]["sold_out"] == 0
    # Covered while a technician works (09-13), uncovered after; every weekday alike.
    for offset in range(5):
        d = (day + timedelta(days=offset)).isoformat()
        assert [cells[(d, h)]["uncovered"] for h in range(9, 17)] == [0, 0, 0, 0, 1, 1, 1, 1]
    expect(page.locator(f"#calendar td[data-day='{monday_}'][data-hour='10']")).to_have_class("sold-out ")
    expect(page.locator(f"#calendar td[data-day='{monday_}'][data-hour='14'] .flag")).to_have_text("1 uncovered")
    # The hours add up to the day that getCapacityAnalytics reports (nothing completed this week).
    for name in ("scheduled", "reserved", "booked", "available", "sold-out", "uncovered"):
        totals = page.locator("#calendar tfoot td.total").evaluate_all(
            f"cells => cells.map(c => c.dataset['{_camel(name)}'])"
        )
        analytics = page.locator("#calendar tfoot td.analytics").evaluate_all(
            f"cells => cells.map(c => c.dataset['{_camel(name)}'])"
        )
        assert totals == analytics, name
    # The chart drew the three series of the week.
    expect(page.locator("#capacity-chart")).to_have_attribute("data-drawn", "3")
    expect(page.locator("#capacity-chart canvas")).to_have_count(1)
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "capacity-store")


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part.title() for part in rest)


def test_a_technician_week_is_what_get_range_slot_capacity_says(
    page: Page, server: Server, world: World, dispatcher: User, screenshots: Path
) -> None:
    day = _a_week(world)
    tech = world.technician_ids[0]
    log_in(page, server, dispatcher)
    page.goto(f"{server.url}/dashboard/capacity")
    page.select_option("#c-technician", tech)
    page.fill("#c-week", day.isoformat())
    page.click("form.filters button[type=submit]")
    expect(page.locator("h2").first).to_contain_text(f"Tech 0 ({tech})")
    cells = _check_against_the_api(page, world, tech, day)
    assert cells[(day.isoformat(), 9)]["scheduled"] == 60
    assert cells[(day.isoformat(), 9)]["sold_out"] is None  # slots are the store's
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "capacity-technician")
