"""GET /analytics/v1/capacity through HTTP (docs/design.md §7): exact numbers on a small store
built through the API and the services, and every bad input answered with the SP-API error body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sp_services.domain.enums import JobStatus
from sp_services.domain.marketplaces import US
from sp_services.services import operator as op
from tests.support import World

MP = {"marketplaceIds": US}
WEEK = {**MP, "startDate": "2030-03-04", "endDate": "2030-03-11"}  # Monday 4th .. Monday 11th
NO_RESERVATIONS = {"APPOINTMENT": 0, "TRAVEL": 0, "VACATION": 0, "BREAK": 0, "TRAINING": 0}


def _put_schedule(c: httpx.Client, resource: str, records: list[dict[str, Any]]) -> None:
    r = c.put(f"/service/v1/serviceResources/{resource}/schedules", params=MP, json={"schedules": records})
    assert r.status_code == 200, r.text


def _reserve(c: httpx.Client, resource: str, kind: str, start: str, end: str) -> None:
    availability = {"startTime": start, "endTime": end, "capacity": 1}
    body = {"resourceId": resource, "reservation": {"type": kind, "availability": availability}}
    r = c.post("/service/v1/reservation", params=MP, json=body)
    assert r.status_code == 200, r.text


def build(world: World) -> None:
    """The store (New York) works 09:00-17:00 at capacity 2 every day from Monday 2030-03-04 to
    Sunday the 10th, which it instead covers whole at capacity 1 (clocks spring forward that
    night). Technician 0 works 09:00-12:00 and technician 1 13:00-17:00 on the Monday only.
    Monday: a 15-minute break at noon and a vacation 13:00-15:00 on the store; a completed job at
    09:00 and two booked at 10:00 (each with technician 0). Two jobs wait for a slot on Tuesday."""
    t0, t1 = world.technician_ids
    with world.client() as c:
        _put_schedule(
            c,
            world.store_id,
            [
                {
                    "startTime": "2030-03-04T09:00:00-05:00",
                    "endTime": "2030-03-04T17:00:00-05:00",
                    "capacity": 2,
                    "recurrence": {"endTime": "2030-03-10T23:00:00-04:00"},
                },
                {"startTime": "2030-03-10T00:00:00-05:00", "endTime": "2030-03-11T00:00:00-04:00", "capacity": 1},
            ],
        )
        _put_schedule(c, t0, [{"startTime": "2030-03-04T09:00:00-05:00", "endTime": "2030-03-04T12:00:00-05:00"}])
        _put_schedule(c, t1, [{"startTime": "2030-03-04T13:00:00-05:00", "endTime": "2030-03-04T17:00:00-05:00"}])
        _reserve(c, world.store_id, "BREAK", "2030-03-04T12:00:00-05:00", "2030-03-04T12:15:00-05:00")
        _reserve(c, world.store_id, "VACATION", "2030-03-04T13:00:00-05:00", "2030-03-04T15:00:00-05:00")
    world.job(JobStatus.COMPLETED, starts_at=datetime(2030, 3, 4, 14, tzinfo=UTC))
    world.job(JobStatus.NOT_SERVICED, starts_at=datetime(2030, 3, 4, 15, tzinfo=UTC), order_jobs=2)
    world.job(JobStatus.CANCELLED, starts_at=datetime(2030, 3, 5, 16, tzinfo=UTC))  # gives its capacity back
    world.job()  # waits, but wants no day of the range: it was created today
    with world.server.db.transaction() as s:
        wanted = ((datetime(2030, 3, 5, 15, tzinfo=UTC), 60),)  # Tuesday 10:00 in New York
        op.create_order(
            s,
            now=world.server.clock(),
            order=op.NewOrder(
                world.seller_id,
                US,
                world.store_id,
                jobs=(op.NewJob(world.asin, preferred_appointment_times=wanted),) * 2,
            ),
        )


def store_day(world: World, day: str, **changes: Any) -> dict[str, Any]:
    """A store row of the week: by default a plain working day nobody on staff can serve."""
    row: dict[str, Any] = {
        "date": day,
        "startDate": day,
        "endDate": day,
        "storeId": world.store_id,
        "hasSchedule": True,
        "scheduledMinutes": 960,
        "reservedMinutes": {"total": 0, "byType": NO_RESERVATIONS},
        "encumberedMinutes": 0,
        "availableMinutes": 960,
        "utilisation": 0.0,
        "committed": 0.0,
        "unservedDemandMinutes": 0,
        "listedSlots": 8,
        "soldOutSlots": 0,
        "uncoveredSlots": 8,
    }
    return row | changes


def monday(world: World) -> dict[str, Any]:
    return store_day(
        world,
        "2030-03-04",
        reservedMinutes={"total": 135, "byType": NO_RESERVATIONS | {"BREAK": 15, "VACATION": 120}},
        encumberedMinutes=180,
        availableMinutes=645,  # 960 - 135 - 180
        utilisation=0.2182,  # 180 / (960 - 135)
        committed=0.3281,  # (180 + 135) / 960
        soldOutSlots=1,  # 10:00
        uncoveredSlots=1,  # 12:00: technician 0 stops at 12:00, technician 1 starts at 13:00
    )


def week(world: World) -> list[dict[str, Any]]:
    return [
        monday(world),
        store_day(world, "2030-03-05", unservedDemandMinutes=120),
        *[store_day(world, f"2030-03-0{d}") for d in (6, 7, 8, 9)],
        # 23 hours at capacity 1; 02:00 does not exist, so 23 hourly slots.
        store_day(world, "2030-03-10", scheduledMinutes=1380, availableMinutes=1380, listedSlots=23, uncoveredSlots=23),
        store_day(
            world,
            "2030-03-11",
            scheduledMinutes=0,
            availableMinutes=0,
            utilisation=None,
            committed=None,
            listedSlots=0,
            uncoveredSlots=0,
        ),
    ]


def get(world: World, **params: str) -> httpx.Response:
    with world.client() as c:
        return c.get("/analytics/v1/capacity", params=params)


def test_days_of_a_store(world: World) -> None:
    build(world)
    r = get(world, **WEEK, groupBy="day", storeIds=world.store_id)
    assert r.status_code == 200, r.text
    assert r.headers["x-amzn-ratelimit-limit"] == "2000.0"
    range_ = {"startDate": "2030-03-04", "endDate": "2030-03-11", "groupBy": "day"}
    assert r.json() == {"payload": range_ | {"days": week(world)}}


def test_technician_rows_follow_the_store_rows(world: World) -> None:
    build(world)
    t0, t1 = world.technician_ids
    r = get(world, **WEEK, groupBy="day", technicianIds=f"{t0},{t1}")
    assert r.status_code == 200, r.text
    days = r.json()["payload"]["days"]
    assert days[:8] == week(world)  # storeIds left out: every store of the seller (it has one)
    idle = {"scheduledMinutes": 0, "encumberedMinutes": 0, "availableMinutes": 0, "utilisation": None}
    assert [(d["technicianId"], d["date"]) for d in days[8:]] == [
        (t, f"2030-03-{n:02d}") for t in (t0, t1) for n in range(4, 12)
    ]
    assert days[8] == {
        "date": "2030-03-04",
        "startDate": "2030-03-04",
        "endDate": "2030-03-04",
        "storeId": world.store_id,
        "technicianId": t0,
        "hasSchedule": True,
        "scheduledMinutes": 180,
        "reservedMinutes": {"total": 0, "byType": NO_RESERVATIONS},
        "encumberedMinutes": 180,  # the completed 09:00 job and both 10:00 ones
        "availableMinutes": 0,
        "utilisation": 1.0,
        "committed": 1.0,
    }
    assert {k: days[9][k] for k in idle} == idle
    assert {k: days[16][k] for k in ("scheduledMinutes", "encumberedMinutes", "utilisation", "committed")} == {
        "scheduledMinutes": 240,
        "encumberedMinutes": 0,
        "utilisation": 0.0,
        "committed": 0.0,
    }


def test_weeks_are_sums_and_their_ratios_ratios_of_sums(world: World) -> None:
    build(world)
    r = get(world, **WEEK, groupBy="week")
    assert r.status_code == 200, r.text
    common = {"storeId": world.store_id, "hasSchedule": True}
    assert r.json()["payload"]["days"] == [
        {
            "period": "2030-W10",
            "startDate": "2030-03-04",
            "endDate": "2030-03-10",
            **common,
            "scheduledMinutes": 7140,  # 6 x 960 + 1380
            "reservedMinutes": {"total": 135, "byType": NO_RESERVATIONS | {"BREAK": 15, "VACATION": 120}},
            "encumberedMinutes": 180,
            "availableMinutes": 6825,
            "utilisation": 0.0257,  # 180 / 7005
            "committed": 0.0441,  # 315 / 7140
            "unservedDemandMinutes": 120,
            "listedSlots": 71,  # 6 x 8 + 23
            "soldOutSlots": 1,
            "uncoveredSlots": 64,  # 1 + 5 x 8 + 23
        },
        {
            "period": "2030-W11",
            "startDate": "2030-03-11",
            "endDate": "2030-03-11",
            **common,
            "scheduledMinutes": 0,
            "reservedMinutes": {"total": 0, "byType": NO_RESERVATIONS},
            "encumberedMinutes": 0,
            "availableMinutes": 0,
            "utilisation": None,
            "committed": None,
            "unservedDemandMinutes": 0,
            "listedSlots": 0,
            "soldOutSlots": 0,
            "uncoveredSlots": 0,
        },
    ]
    (whole,) = get(world, **WEEK).json()["payload"]["days"]  # groupBy defaults to none: the whole range
    assert (whole["startDate"], whole["endDate"], whole["scheduledMinutes"], "period" in whole) == (
        "2030-03-04",
        "2030-03-11",
        7140,
        False,
    )


def test_a_store_without_a_schedule_sells_its_working_hours(world: World) -> None:
    """No schedule: nothing scheduled (as the capacity reports say), so no ratios; the slots are
    getAppointmentSlots' working hours, Monday to Friday 08:00-18:00, one job at a time."""
    world.job(JobStatus.NOT_SERVICED, starts_at=datetime(2030, 3, 4, 14, tzinfo=UTC))  # 09:00 local
    r = get(world, **MP, startDate="2030-03-04", endDate="2030-03-04", groupBy="day")
    assert r.status_code == 200, r.text
    (day,) = r.json()["payload"]["days"]
    assert day == store_day(
        world,
        "2030-03-04",
        hasSchedule=False,
        scheduledMinutes=0,
        encumberedMinutes=60,
        availableMinutes=-60,
        utilisation=None,
        committed=None,
        listedSlots=10,
        soldOutSlots=1,
        uncoveredSlots=0,  # its technicians have no schedule: not capacity-managed, free for any slot
    )


def _error(r: httpx.Response, status: int, code: str, message: str, details: str = "") -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"errors": [{"code": code, "message": message, "details": details}]}


@pytest.mark.parametrize(
    ("params", "message", "details"),
    [
        ({"storeIds": "store-nope"}, "[storeIds]", "storeIds: unknown store-nope"),
        ({"technicianIds": "TNOPE"}, "[technicianIds]", "technicianIds: unknown TNOPE"),
        ({"endDate": "2030-03-03"}, "[endDate]", "endDate must not be before startDate."),
        ({"endDate": "2031-03-05"}, "[startDate, endDate]", "A request covers at most 366 days."),
        ({"groupBy": "year"}, "[groupBy]", "groupBy: accepts only day, week, month, none"),
        ({"startDate": "2030-02-30"}, "[startDate]", "startDate: not a calendar date"),
        ({"marketplaceIds": ""}, "[marketplaceIds]", "marketplaceIds: needs at least one value"),
    ],
)
def test_bad_input(world: World, params: dict[str, str], message: str, details: str) -> None:
    r = get(world, **{**WEEK, **params})
    _error(r, 400, "InvalidInput", f"Missing or invalid request parameters: {message}", details)


def test_a_range_of_366_days_is_taken(world: World) -> None:
    r = get(world, **MP, startDate="2030-01-01", endDate="2030-12-31", groupBy="month", storeIds=world.store_id)
    assert r.status_code == 200, r.text
    assert [d["period"] for d in r.json()["payload"]["days"]] == [f"2030-{m:02d}" for m in range(1, 13)]


def test_another_sellers_store_or_technician_is_refused_without_a_word_about_it(
    world: World, other_world: World
) -> None:
    refused = "Not authorized to access this resource. Please check your input again."
    _error(get(world, **WEEK, storeIds=other_world.store_id), 403, "UnauthorizedAction", refused)
    _error(get(world, **WEEK, technicianIds=other_world.technician_ids[0]), 403, "UnauthorizedAction", refused)


def test_no_token_is_refused(world: World) -> None:
    r = httpx.get(f"{world.server.url}/analytics/v1/capacity", params=WEEK)
    _error(
        r,
        403,
        "Unauthorized",
        "Access to requested resource is denied.",
        "Access token is missing in the request header.",
    )


@pytest.mark.parametrize(
    ("start", "end", "group_by"),
    [("0001-01-01", "0001-12-31", "week"), ("9999-01-01", "9999-12-31", "month"), ("9999-12-31", "9999-12-31", "day")],
)
def test_the_calendars_ends_are_answered(world: World, start: str, end: str, group_by: str) -> None:
    world.job(JobStatus.NOT_SERVICED)
    r = get(world, **MP, startDate=start, endDate=end, groupBy=group_by)
    assert r.status_code == 200, r.text
    days = r.json()["payload"]["days"]
    assert (days[0]["startDate"], days[-1]["endDate"]) == (start, end)
    assert days[-1]["scheduledMinutes"] == 0 and days[-1]["utilisation"] is None


@pytest.mark.parametrize("params", [{"startDate": "9999-12-31"}, {"endDate": "0001-01-05"}])
def test_a_default_range_beyond_the_calendar_is_refused(world: World, params: dict[str, str]) -> None:
    details = "The range reaches beyond year 1 or 9999."
    _error(
        get(world, **MP, **params),
        400,
        "InvalidInput",
        "Missing or invalid request parameters: [startDate, endDate]",
        details,
    )


def test_openapi_describes_it(world: World) -> None:
    op = httpx.get(f"{world.server.url}/openapi.json").json()["paths"]["/analytics/v1/capacity"]["get"]
    assert (op["operationId"], set(op["responses"])) == ("getCapacityAnalytics", {"200", "400", "403", "429"})
    assert [p["name"] for p in op["parameters"]] == [
        "marketplaceIds",
        "startDate",
        "endDate",
        "groupBy",
        "storeIds",
        "technicianIds",
    ]
    payload = op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["payload"]
    row = payload["properties"]["days"]["items"]["properties"]
    assert set(row["reservedMinutes"]["properties"]["byType"]["properties"]) == set(NO_RESERVATIONS)
