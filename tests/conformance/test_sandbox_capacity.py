"""Issue #6, capacity share: every static sandbox case of the capacity, reservation and slot
operations reproduced as a *stateful* test.

Each case of getRangeSlotCapacity, getFixedSlotCapacity, updateSchedule, createReservation,
updateReservation, cancelReservation, getAppointmmentSlotsByJobId and getAppointmentSlots
(spec/sandbox-cases.md) is read as the condition its magic ids name. The builder registered for
the case id sets that condition up for real (a published schedule, a reservation, a booked job, an
unknown or malformed id …), sends the case's request with our ids substituted, and asserts the
status, the exact error code and message (and ``details`` where the sandbox gives some); for
successes, the response and the state afterwards. Sandbox times are kept as they are unless the
condition needs them moved (slots are never offered in the past). docs/conformance/capacity.md
maps each case to its test and explains every reading and deviation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from sp_services.domain.enums import JobStatus
from sp_services.domain.times import parse_iso
from tests.conformance.cases import Case, cases_in, expected_errors
from tests.support import World, travel

US = "ATVPDKIKX0DER"
MP = {"marketplaceIds": US}

CASES = cases_in("capacity")

# Ids the server's patterns reject: the sandbox's "null…" / "invalid…" / missing ids.
MALFORMED_RESOURCE = "invalid resource id"
MALFORMED_RESERVATION = "invalid reservation id"
MALFORMED_JOB = "invalid job id"

Builder = Callable[[Case, World], None]
BUILDERS: dict[str, Builder] = {}

# Cases where we believe the server is wrong: the test asserts the sandbox's (or the documented)
# answer and is expected to fail until the server is fixed.
SERVER_BUGS: dict[str, str] = {}


def builds(case_id: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        assert case_id not in BUILDERS, case_id
        BUILDERS[case_id] = fn
        return fn

    return register


# ---- HTTP ---------------------------------------------------------------------------------------


def path_id(value: str) -> str:
    return quote(value, safe="")


def put_schedule(w: World, resource: str, records: list[dict[str, Any]]) -> httpx.Response:
    with w.client() as c:
        return c.put(
            f"/service/v1/serviceResources/{path_id(resource)}/schedules", params=MP, json={"schedules": records}
        )


def publish(w: World, resource: str, records: list[dict[str, Any]]) -> None:
    r = put_schedule(w, resource, records)
    assert r.status_code == 200, r.text


def report(w: World, kind: str, resource: str, body: Any, **params: str) -> httpx.Response:
    with w.client() as c:
        return c.post(
            f"/service/v1/serviceResources/{path_id(resource)}/capacity/{kind}", params={**MP, **params}, json=body
        )


def create(w: World, body: Any) -> httpx.Response:
    with w.client() as c:
        return c.post("/service/v1/reservation", params=MP, json=body)


def update(w: World, reservation_id: str, body: Any) -> httpx.Response:
    with w.client() as c:
        return c.put(f"/service/v1/reservation/{path_id(reservation_id)}", params=MP, json=body)


def cancel(w: World, reservation_id: str) -> httpx.Response:
    with w.client() as c:
        return c.delete(f"/service/v1/reservation/{path_id(reservation_id)}", params=MP)


def reserve(w: World, resource: str, start: str, end: str, *, capacity: int = 1, kind: str = "BREAK") -> str:
    r = create(
        w,
        {
            "resourceId": resource,
            "reservation": {"type": kind, "availability": {"startTime": start, "endTime": end, "capacity": capacity}},
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["payload"]["reservation"]["reservationId"])


def slots_by_job(w: World, job_id: str, **params: str) -> httpx.Response:
    with w.client() as c:
        return c.get(f"/service/v1/serviceJobs/{path_id(job_id)}/appointmentSlots", params={**MP, **params})


def slots_by_asin(w: World, **params: str) -> httpx.Response:
    with w.client() as c:
        return c.get("/service/v1/appointmentSlots", params={**MP, **params})


# ---- assertions and state -----------------------------------------------------------------------


def at(text: str) -> datetime:
    parsed = parse_iso(text)
    assert parsed is not None, text
    return parsed[0]


def z(instant: datetime) -> str:
    """Second-precision UTC, as capacity reports and slots write times."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_errors(r: httpx.Response, case: Case, *, status: int | None = None, errors: Any = None) -> None:
    """Status (the case's unless a documented deviation says otherwise), then code + message of
    every error; ``details`` too where the sandbox gives any."""
    assert r.status_code == (case.status if status is None else status), r.text
    got = r.json()["errors"]
    want = expected_errors(case) if errors is None else errors
    assert [{"code": e["code"], "message": e["message"]} for e in got] == want
    sandbox_items = case.response.get("errors", []) if isinstance(case.response, dict) else case.response
    for mine, theirs in zip(got, sandbox_items, strict=False):
        if theirs.get("details"):
            assert mine["details"] == theirs["details"]


def runs(w: World, resource: str, kind: str, start: str, end: str) -> list[tuple[str, str, int]]:
    """One capacity type of a resource over [start, end), as (start, end, capacity) runs."""
    r = report(w, "range", resource, {"capacityTypes": [kind], "startDateTime": start, "endDateTime": end})
    assert r.status_code == 200, r.text
    assert "nextPageToken" not in r.json()
    (capacity,) = r.json()["capacities"]
    return [(s["startDateTime"], s["endDateTime"], s["capacity"]) for s in capacity["slots"]]


def reserved_at(w: World, resource: str, start: str, end: str) -> list[tuple[str, str]]:
    """The stretches of [start, end) where the resource has anything reserved."""
    return [(s, e) for s, e, c in runs(w, resource, "RESERVED_CAPACITY", start, end) if c]


def merge(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join adjacent report runs of equal capacity (runs split only by a page boundary)."""
    merged: list[dict[str, Any]] = []
    for s in slots:
        if merged and merged[-1]["endDateTime"] == s["startDateTime"] and merged[-1]["capacity"] == s["capacity"]:
            merged[-1] = {**merged[-1], "endDateTime": s["endDateTime"]}
        else:
            merged.append(dict(s))
    return merged


def by_type(body: dict[str, Any]) -> dict[str, Any]:
    return {c["capacityType"]: c["slots"] for c in body["capacities"]}


def with_ids(case: Case, **names: str | None) -> dict[str, Any]:
    """The case's request body with our ids in place of the magic ones."""
    body: dict[str, Any] = json.loads(json.dumps(case.param("body")))
    body.update(names)
    return body


def unknown_resource() -> str:
    """A well-formed resource id that names no store or technician."""
    return f"unknown-resource-{uuid.uuid4()}"


# ---- getRangeSlotCapacity -----------------------------------------------------------------------

RANGE_DAY = ("2021-04-04T00:00:00Z", "2021-04-04T02:00:00Z")  # the sandbox's own window, kept


@builds("getRangeSlotCapacity#1")
def range_scheduled_and_available(case: Case, w: World) -> None:
    # A store scheduled (capacity 1) over the window whose first hour a booked one-hour job takes.
    publish(w, w.store_id, [{"startTime": RANGE_DAY[0], "endTime": RANGE_DAY[1]}])
    w.job(JobStatus.NOT_SERVICED, starts_at=at(RANGE_DAY[0]))
    r = report(w, "range", w.store_id, case.param("body"))
    assert r.status_code == 200, r.text
    assert r.json() == {**case.response, "resourceId": w.store_id}


def spring_2022(w: World) -> None:
    """Scheduled (1) from before the sandbox's 2022-03-01 … 05-30 query to after it; the first ten
    hours reserved."""
    publish(w, w.store_id, [{"startTime": "2022-02-01T00:00:00Z", "endTime": "2022-06-30T00:00:00Z"}])
    reserve(w, w.store_id, "2022-03-01T00:00:00Z", "2022-03-01T10:00:00Z")


@builds("getRangeSlotCapacity#2")
def range_first_page(case: Case, w: World) -> None:
    spring_2022(w)
    r = report(w, "range", w.store_id, case.param("body"))
    assert r.status_code == 200, r.text
    body = r.json()
    token = body.pop("nextPageToken")  # opaque: ours is signed, the sandbox's a bare date
    assert isinstance(token, str) and token
    expected = {k: v for k, v in case.response.items() if k != "nextPageToken"}
    # The sandbox answers another resource's id than the one asked for: we echo the one asked for.
    assert body == {**expected, "resourceId": w.store_id}


@builds("getRangeSlotCapacity#3")
def range_next_page(case: Case, w: World) -> None:
    spring_2022(w)
    query = case.param("body")
    first = report(w, "range", w.store_id, query)
    assert first.status_code == 200, first.text
    token = first.json()["nextPageToken"]  # ours, in place of the sandbox's magic token
    # We page by 35 days, so the rest of the 90-day query comes in two pages; joined, they are
    # the sandbox's one page. (Its AVAILABLE run ends at 05-30T10:00, past the query's end: read
    # as ending at the end.)
    pages: list[dict[str, Any]] = []
    while token:
        r = report(w, "range", w.store_id, query, nextPageToken=token)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        token = r.json().get("nextPageToken")
    assert [p["capacities"][0]["slots"][0]["startDateTime"] for p in pages] == [
        "2022-04-05T00:00:00Z",
        "2022-05-10T00:00:00Z",
    ]
    assert all(p["resourceId"] == w.store_id for p in pages)
    joined = {
        kind: merge([s for p in pages for s in by_type(p)[kind]])
        for kind in ("SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY")
    }
    end = query["endDateTime"]
    expected = {
        kind: [{**s, "endDateTime": min(s["endDateTime"], end)} for s in slots]
        for kind, slots in by_type(case.response).items()
    }
    assert joined == expected
    assert [c["capacityType"] for c in pages[-1]["capacities"]] == query["capacityTypes"]


@builds("getRangeSlotCapacity#4")
def range_reserved_and_available(case: Case, w: World) -> None:
    # A technician scheduled over the window, with a one-hour break at its start.
    tech = w.technician_ids[0]
    publish(w, tech, [{"startTime": RANGE_DAY[0], "endTime": RANGE_DAY[1]}])
    reserve(w, tech, RANGE_DAY[0], "2021-04-04T01:00:00Z")
    r = report(w, "range", tech, case.param("body"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resourceId"] == tech
    # The sandbox lists AVAILABLE before RESERVED though RESERVED was asked first (case #1 keeps
    # the order asked); we answer in the order asked, so the types are compared one by one.
    assert [c["capacityType"] for c in body["capacities"]] == case.param("body")["capacityTypes"]
    assert by_type(body) == by_type(case.response)


@builds("getRangeSlotCapacity#5")
def range_without_resource(case: Case, w: World) -> None:
    # No (usable) resourceId in the path: a malformed one.
    check_errors(report(w, "range", MALFORMED_RESOURCE, case.param("body")), case)


@builds("getRangeSlotCapacity#6")
@builds("getRangeSlotCapacity#7")
@builds("getRangeSlotCapacity#8")
def range_bad_query(case: Case, w: World) -> None:
    # Our own resource with a schedule; the sandbox's body as it is (no end / end before start /
    # start not ISO 8601).
    publish(w, w.store_id, [{"startTime": RANGE_DAY[0], "endTime": RANGE_DAY[1]}])
    check_errors(report(w, "range", w.store_id, case.param("body")), case)


# ---- getFixedSlotCapacity -----------------------------------------------------------------------


@builds("getFixedSlotCapacity#1")
def fixed_scheduled_and_reserved(case: Case, w: World) -> None:
    # Scheduled (1) for the first hour of the window; the first half hour reserved.
    publish(w, w.store_id, [{"startTime": RANGE_DAY[0], "endTime": "2021-04-04T01:00:00Z"}])
    reserve(w, w.store_id, RANGE_DAY[0], "2021-04-04T00:30:00Z")
    r = report(w, "fixed", w.store_id, case.param("body"))
    assert r.status_code == 200, r.text
    assert r.json() == {**case.response, "resourceId": w.store_id}


@builds("getFixedSlotCapacity#2")
def fixed_without_resource(case: Case, w: World) -> None:
    check_errors(report(w, "fixed", MALFORMED_RESOURCE, case.param("body")), case)


@builds("getFixedSlotCapacity#3")
@builds("getFixedSlotCapacity#4")
@builds("getFixedSlotCapacity#5")
@builds("getFixedSlotCapacity#6")
def fixed_bad_query(case: Case, w: World) -> None:
    # Our own scheduled resource (#5's request misplaces resourceId inside the body: read as ours);
    # the sandbox's body as it is (slotDuration 400 / end before start / no end / start not ISO).
    publish(w, w.store_id, [{"startTime": RANGE_DAY[0], "endTime": RANGE_DAY[1]}])
    check_errors(report(w, "fixed", w.store_id, case.param("body")), case)


# ---- updateSchedule -----------------------------------------------------------------------------

JANUARY = ("2020-01-01T00:00:00Z", "2020-01-20T00:00:00Z")


def scheduled_on(w: World, resource: str, start: str, end: str) -> list[tuple[str, str, int]]:
    return [run for run in runs(w, resource, "SCHEDULED_CAPACITY", start, end) if run[2]]


@builds("updateSchedule#1")
def schedule_two_recurring_records(case: Case, w: World) -> None:
    r = put_schedule(w, w.store_id, case.param("body")["schedules"])
    assert r.status_code == 200, r.text
    assert r.json() == {}
    # The records are in -07:00, the store in New York: 00:00-07 is 02:00 EST (07:00Z), and each
    # occurrence keeps those local hours. #1 repeats on weekdays from Wed 01-01 to Mon 01-06, #2 on
    # Mon-Wed 01-13 … 01-15 (its first day, Sat 01-11, is not one of its days). Tue 01-07 is left
    # to test_recurrence_ends_at_its_end_time (suspected server bug).
    days = ["01-01", "01-02", "01-03", "01-06", "01-13", "01-14", "01-15"]
    expected = [
        (f"2020-{d}T07:00:00Z", z(at(f"2020-{d}T07:00:00Z") + timedelta(hours=23, minutes=59)), 1) for d in days
    ]
    on = scheduled_on(w, w.store_id, *JANUARY)
    assert [run for run in on if not run[0].startswith("2020-01-07")] == expected


def test_recurrence_ends_at_its_end_time(world: World) -> None:
    """updateSchedule#1's schedule, supplement: no occurrence starts after its recurrence's endTime."""
    (case,) = [c for c in CASES if c.id == "updateSchedule#1"]
    assert put_schedule(world, world.store_id, case.param("body")["schedules"]).status_code == 200
    assert scheduled_on(world, world.store_id, "2020-01-07T00:00:00Z", "2020-01-08T00:00:00Z") == [
        ("2020-01-07T00:00:00Z", "2020-01-07T06:59:00Z", 1)  # Monday's occurrence running into Tuesday
    ]


@builds("updateSchedule#2")
def schedule_overlapping_records(case: Case, w: World) -> None:
    # The sandbox's records do not overlap (01-01 … 01-06 and 01-11 … 01-16) yet it warns, and its
    # payload is a placeholder: read as "a schedule whose records overlap". The sandbox's first
    # record is kept; a second one (capacity 3) overlaps it on Thursday 01-02 and overrides it there.
    first = case.param("body")["schedules"][0]
    second = {"startTime": "2020-01-02T14:00:00.00-07", "endTime": "2020-01-02T16:00:00.00-07", "capacity": 3}
    r = put_schedule(w, w.store_id, [first, second])
    assert r.status_code == 200, r.text
    (warning,) = case.response["payload"][0]["warnings"]
    assert r.json() == {
        "payload": [
            {
                "availability": {
                    "startTime": "2020-01-02T21:00:00.000Z",
                    "endTime": "2020-01-02T23:00:00.000Z",
                    "capacity": 3,
                },
                "warnings": [warning],
            }
        ]
    }
    # Overriding, not adding: 3 where the records overlap, 1 around it.
    assert scheduled_on(w, w.store_id, "2020-01-02T19:00:00Z", "2020-01-03T00:00:00Z") == [
        ("2020-01-02T19:00:00Z", "2020-01-02T21:00:00Z", 1),
        ("2020-01-02T21:00:00Z", "2020-01-02T23:00:00Z", 3),
        ("2020-01-02T23:00:00Z", "2020-01-03T00:00:00Z", 1),
    ]


@builds("updateSchedule#3")
def schedule_unknown_resource(case: Case, w: World) -> None:
    # Deviation: the sandbox shows this text under a 200; an unknown resource is a 400 here.
    r = put_schedule(w, unknown_resource(), case.param("body")["schedules"])
    check_errors(r, case, status=400)


@builds("updateSchedule#4")
def schedule_without_resource(case: Case, w: World) -> None:
    check_errors(put_schedule(w, MALFORMED_RESOURCE, case.param("body")["schedules"]), case)


@builds("updateSchedule#5")
def schedule_empty(case: Case, w: World) -> None:
    # A store with a published schedule is sent an empty one: refused, and the old one stays.
    publish(w, w.store_id, [{"startTime": "2020-01-06T14:00:00Z", "endTime": "2020-01-06T22:00:00Z"}])
    check_errors(put_schedule(w, w.store_id, case.param("body")["schedules"]), case)
    assert scheduled_on(w, w.store_id, *JANUARY) == [("2020-01-06T14:00:00Z", "2020-01-06T22:00:00Z", 1)]


# ---- createReservation / updateReservation / cancelReservation ----------------------------------

# The sandbox's reservations are on 2020-04-01 in -07:00; the store is scheduled around them.
APRIL = ("2020-04-01T00:00:00Z", "2020-04-02T12:00:00Z")
APRIL_SCHEDULE = {"startTime": "2020-04-01T08:00:00.00-07", "endTime": "2020-04-01T18:00:00.00-07"}
EARLY = ("2020-04-01T15:00:00Z", "2020-04-01T16:00:00Z")  # 08:00-09:00 -07, where reservations start out
SANDBOX_SLOT = ("2020-04-01T17:00:00Z", "2020-04-01T18:00:00Z")  # the sandbox's 10:00-11:00 -07


def reservation_on_schedule(w: World, kind: str = "BREAK") -> str:
    """A store with a published schedule and one reservation of it (08:00-09:00 -07)."""
    publish(w, w.store_id, [APRIL_SCHEDULE])
    return reserve(w, w.store_id, *EARLY, kind=kind)


@builds("createReservation#1")
def create_fits(case: Case, w: World) -> None:
    publish(w, w.store_id, [APRIL_SCHEDULE])
    r = create(w, with_ids(case, resourceId=w.store_id))
    assert r.status_code == 200, r.text
    reservation = r.json()["payload"]["reservation"]
    # The sandbox's payload is a placeholder (id 457, type APPOINTMENT, 2025 times); ours is the
    # reservation made: a fresh id, the type and times sent.
    assert isinstance(reservation.pop("reservationId"), str)
    assert reservation == {
        "type": "BREAK",
        "availability": {"startTime": "2020-04-01T17:00:00.000Z", "endTime": "2020-04-01T18:00:00.000Z", "capacity": 1},
    }
    assert reserved_at(w, w.store_id, *APRIL) == [SANDBOX_SLOT]


@builds("createReservation#2")
def create_unknown_resource(case: Case, w: World) -> None:
    # Deviation: the sandbox shows this text under a 200; an unknown resource is a 400 here.
    check_errors(create(w, with_ids(case, resourceId=unknown_resource())), case, status=400)


@builds("createReservation#3")
def create_without_resource(case: Case, w: World) -> None:
    # The sandbox's "null" resource id: none at all.
    publish(w, w.store_id, [APRIL_SCHEDULE])
    check_errors(create(w, with_ids(case, resourceId=None)), case)
    assert reserved_at(w, w.store_id, *APRIL) == []


@builds("createReservation#4")
def create_without_reservation(case: Case, w: World) -> None:
    publish(w, w.store_id, [APRIL_SCHEDULE])
    check_errors(create(w, with_ids(case, resourceId=w.store_id)), case)
    assert reserved_at(w, w.store_id, *APRIL) == []


@builds("updateReservation#1")
def update_moves(case: Case, w: World) -> None:
    # An APPOINTMENT reservation (the type the sandbox answers) is moved to the sandbox's times;
    # the body says BREAK, and updateReservation keeps the type (README). The moved reservation
    # has a new id, as the sandbox's 456 -> 457.
    old = reservation_on_schedule(w, kind="APPOINTMENT")
    r = update(w, old, with_ids(case, resourceId=w.store_id))
    assert r.status_code == 200, r.text
    reservation = r.json()["payload"]["reservation"]
    new = reservation.pop("reservationId")
    assert isinstance(new, str) and new != old
    assert reservation == {
        "type": "APPOINTMENT",
        "availability": {"startTime": "2020-04-01T17:00:00.000Z", "endTime": "2020-04-01T18:00:00.000Z", "capacity": 1},
    }
    assert reserved_at(w, w.store_id, *APRIL) == [SANDBOX_SLOT]
    gone = cancel(w, old)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["message"] == "Reservation does not exist"


@builds("updateReservation#2")
def update_to_unknown_resource(case: Case, w: World) -> None:
    # Deviation: the sandbox shows this text under a 200; an unknown resource is a 400 here.
    old = reservation_on_schedule(w)
    check_errors(update(w, old, with_ids(case, resourceId=unknown_resource())), case, status=400)
    assert reserved_at(w, w.store_id, *APRIL) == [EARLY]


@builds("updateReservation#3")
@builds("updateReservation#4")
def update_bad_body(case: Case, w: World) -> None:
    # The sandbox's request names no reservation: read as an existing one of ours, sent a body
    # with no resource id ("null") / an empty reservation. Nothing moves.
    old = reservation_on_schedule(w)
    resource = w.store_id if case.param("body")["resourceId"] != "null" else None
    check_errors(update(w, old, with_ids(case, resourceId=resource)), case)
    assert reserved_at(w, w.store_id, *APRIL) == [EARLY]


@builds("updateReservation#5")
def update_missing_reservation(case: Case, w: World) -> None:
    # A reservation that never existed, sent with an unknown resource too: the reservation is
    # looked up first.
    publish(w, w.store_id, [APRIL_SCHEDULE])
    missing = f"not-existent-{uuid.uuid4()}"
    r = update(w, missing, with_ids(case, resourceId=unknown_resource()))
    (item,) = expected_errors(case)
    check_errors(r, case, errors=[{**item, "message": item["message"].replace(case.param("reservationId"), missing)}])


@builds("cancelReservation#1")
def cancel_existing(case: Case, w: World) -> None:
    reservation = reservation_on_schedule(w)
    r = cancel(w, reservation)
    assert r.status_code == 204, r.text
    assert r.content == b""
    # Gone: its capacity is free, and it can be neither cancelled nor moved again.
    assert reserved_at(w, w.store_id, *APRIL) == []
    again = cancel(w, reservation)
    assert again.status_code == 404
    assert again.json()["errors"][0]["message"] == "Reservation does not exist"
    moved = update(
        w, reservation, {"resourceId": w.store_id, "reservation": {"type": "BREAK", "availability": APRIL_SCHEDULE}}
    )
    assert moved.status_code == 404


@builds("cancelReservation#2")
def cancel_malformed(case: Case, w: World) -> None:
    reservation_on_schedule(w)
    check_errors(cancel(w, MALFORMED_RESERVATION), case)
    assert reserved_at(w, w.store_id, *APRIL) == [EARLY]


@builds("cancelReservation#3")
def cancel_missing(case: Case, w: World) -> None:
    # Reservations that do not exist: one moved away by updateReservation (its old id), and one
    # that never existed. The moved one is untouched.
    old = reservation_on_schedule(w)
    moved = update(
        w,
        old,
        {
            "resourceId": w.store_id,
            "reservation": {
                "type": "BREAK",
                "availability": dict(zip(("startTime", "endTime"), SANDBOX_SLOT, strict=True)),
            },
        },
    )
    assert moved.status_code == 200, moved.text
    for missing in (old, f"nonExistingReservationId-{uuid.uuid4()}"):
        check_errors(cancel(w, missing), case)
    assert reserved_at(w, w.store_id, *APRIL) == [SANDBOX_SLOT]


# ---- getAppointmmentSlotsByJobId / getAppointmentSlots ------------------------------------------


def two_hours_ahead(w: World) -> datetime:
    """A store scheduled for two hours two days from now with capacity 20, the second hour
    reserved in full: its slots are the sandbox's 20 then 0. Returns the first hour's start."""
    base = (w.server.clock() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    hour = timedelta(hours=1)
    publish(w, w.store_id, [{"startTime": z(base), "endTime": z(base + 2 * hour), "capacity": 20}])
    reserve(w, w.store_id, z(base + hour), z(base + 2 * hour), capacity=20)
    return base


def check_default_window(case: Case, w: World, r: httpx.Response, before: datetime, base: datetime) -> None:
    """No window asked: now … now + the store's 14-day horizon; the slots are the sandbox's."""
    after = w.server.clock()
    assert r.status_code == 200, r.text
    payload = r.json()["payload"]
    start, end = at(payload.pop("startTime")), at(payload.pop("endTime"))
    assert before.replace(microsecond=0) <= start <= after
    assert end - start == timedelta(days=14)
    hour = timedelta(hours=1)
    sandbox = case.response["payload"]
    assert payload == {
        "schedulingType": sandbox["schedulingType"],
        "appointmentSlots": [
            {"startTime": z(base), "endTime": z(base + hour), "capacity": 20},
            {"startTime": z(base + hour), "endTime": z(base + 2 * hour), "capacity": 0},
        ],
    }
    assert [s["capacity"] for s in sandbox["appointmentSlots"]] == [20, 0]


# The sandbox's explicit window (2021-04-04 00:00-02:00Z) is in the past, where no slot is offered:
# moved to the same hours of 2030-04-04 (a Thursday).
PAST_DAY, FUTURE_DAY = "2021-04-04", "2030-04-04"


def moved(value: Any) -> Any:
    return json.loads(json.dumps(value).replace(PAST_DAY, FUTURE_DAY))


def sandbox_window(case: Case, w: World) -> None:
    """Scheduled (20) over the sandbox's window moved to 2030, its second hour reserved in full."""
    start, end = moved(case.param("startTime")), moved(case.param("endTime"))
    middle = z(at(start) + timedelta(hours=1))
    publish(w, w.store_id, [{"startTime": start, "endTime": end, "capacity": 20}])
    reserve(w, w.store_id, middle, end, capacity=20)


@builds("getAppointmmentSlotsByJobId#1")
def job_slots_default_window(case: Case, w: World) -> None:
    (job,) = w.job()  # PENDING_SCHEDULE: a job that can be booked
    base = two_hours_ahead(w)
    before = w.server.clock()
    check_default_window(case, w, slots_by_job(w, job), before, base)


def near_future_day(w: World) -> None:
    """The server's now two days before FUTURE_DAY: its slots lie within the booking horizon."""
    travel(w.server, at(f"{FUTURE_DAY}T00:00:00Z") - timedelta(days=2))


@builds("getAppointmmentSlotsByJobId#2")
def job_slots_window(case: Case, w: World) -> None:
    near_future_day(w)
    (job,) = w.job()
    sandbox_window(case, w)
    r = slots_by_job(w, job, startTime=moved(case.param("startTime")), endTime=moved(case.param("endTime")))
    assert r.status_code == 200, r.text
    assert r.json() == moved(case.response)


@builds("getAppointmmentSlotsByJobId#3")
def job_slots_malformed_job(case: Case, w: World) -> None:
    check_errors(slots_by_job(w, MALFORMED_JOB), case)


@builds("getAppointmmentSlotsByJobId#4")
@builds("getAppointmmentSlotsByJobId#5")
def job_slots_bad_window(case: Case, w: World) -> None:
    # A bookable job; the sandbox's times as they are (end not ISO 8601 / end before start).
    (job,) = w.job()
    params = {name: case.param(name) for name in ("startTime", "endTime") if case.param(name) is not None}
    check_errors(slots_by_job(w, job, **params), case)


@builds("getAppointmentSlots#1")
def asin_slots_default_window(case: Case, w: World) -> None:
    base = two_hours_ahead(w)
    before = w.server.clock()
    check_default_window(case, w, slots_by_asin(w, asin=w.asin, storeId=w.store_id), before, base)


@builds("getAppointmentSlots#2")
def asin_slots_without_schedule(case: Case, w: World) -> None:
    # Another store and ASIN in the sandbox, answered NON_REAL_TIME_SCHEDULING: a store that has
    # published no schedule. Such a store takes one booking per working-hours slot (README), so the
    # sandbox's 20 is 1 here, and its second hour is booked by a job. The sandbox's window is a
    # Sunday night, outside working hours: moved to a weekday morning (10:00-12:00 New York).
    near_future_day(w)
    start, middle, end = "2030-04-04T14:00:00Z", "2030-04-04T15:00:00Z", "2030-04-04T16:00:00Z"
    w.job(JobStatus.NOT_SERVICED, starts_at=at(middle))
    r = slots_by_asin(w, asin=w.asin, storeId=w.store_id, startTime=start, endTime=end)
    assert r.status_code == 200, r.text
    sandbox = case.response["payload"]
    assert r.json() == {
        "payload": {
            "startTime": start,
            "endTime": end,
            "schedulingType": sandbox["schedulingType"],
            "appointmentSlots": [
                {"startTime": start, "endTime": middle, "capacity": 1},
                {"startTime": middle, "endTime": end, "capacity": 0},
            ],
        }
    }


@builds("getAppointmentSlots#3")
def asin_slots_malformed_asin(case: Case, w: World) -> None:
    # "nullValue" is not an ASIN; the store is ours.
    check_errors(slots_by_asin(w, asin=case.param("asin"), storeId=w.store_id), case)


@builds("getAppointmentSlots#4")
@builds("getAppointmentSlots#5")
def asin_slots_bad_window(case: Case, w: World) -> None:
    params = {name: case.param(name) for name in ("startTime", "endTime") if case.param(name) is not None}
    check_errors(slots_by_asin(w, asin=w.asin, storeId=w.store_id, **params), case)


# ---- the tests ----------------------------------------------------------------------------------


def test_every_case_has_a_builder() -> None:
    assert len(CASES) == 41
    assert sorted(BUILDERS) == sorted(c.id for c in CASES)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=SERVER_BUGS[c.id])] if c.id in SERVER_BUGS else [],
        )
        for c in CASES
    ],
)
def test_sandbox_case(case: Case, world: World) -> None:
    BUILDERS[case.id](case, world)
