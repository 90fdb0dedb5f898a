"""GET /analytics/v1/technicians, /stores and /payments through HTTP (docs/design.md §6): exact
figures on a small history made through the services, and every bad input's exact answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from sp_services.domain.enums import AppointmentStatus, JobEventKind, JobStatus
from sp_services.domain.ids import new_appointment_id
from sp_services.domain.jobs import Appointment, Fulfillment, JobEvent
from sp_services.domain.marketplaces import US
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services import jobs as job_service
from tests.support import Server, World, seed_booking

PATHS = ("/analytics/v1/technicians", "/analytics/v1/stores", "/analytics/v1/payments")
UNAUTHORIZED = "Not authorized to access this resource. Please check your input again."
H = timedelta(hours=1)
M = timedelta(minutes=1)
# Ten days ago at 15:00 UTC (10:00 or 11:00 in the world's New York store), as a store-local date.
DAY0 = (datetime.now(UTC) - timedelta(days=10)).replace(hour=15, minute=0, second=0, microsecond=0)


def at(day: int, minutes: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, minutes=minutes)


def local(day: int) -> str:
    return (DAY0.date() + timedelta(days=day)).isoformat()


def seed_reschedule(
    session: Session, job_id: str, start: datetime, reason: str, technicians: tuple[str, ...], *, at: datetime
) -> None:
    """Test set-up only, like seed_booking: move the job's ACTIVE appointment to ``start`` as the
    reschedule operation records it (the old one CANCELLED, the new one naming it and the reason),
    without the booking rules, so that past moves can be written."""
    repo = JobRepository(session)
    job = repo.get_job(job_id)
    assert job is not None
    old = job.active_appointment()
    assert old is not None
    repo.set_appointment_status(old.appointment_id, AppointmentStatus.CANCELLED, now=at)
    new = Appointment(
        appointment_id=new_appointment_id(job_id),
        service_job_id=job_id,
        status=AppointmentStatus.ACTIVE,
        start_time=start,
        duration_minutes=old.duration_minutes,
        rescheduled_appointment_id=old.appointment_id,
    )
    repo.add_appointment(new, seller_id=job.seller_id, now=at, reschedule_reason_code=reason)
    repo.set_technicians(new.appointment_id, technicians, now=at)
    moved = JobEvent(JobEventKind.RESCHEDULED, at, JobStatus.NOT_SERVICED, new.appointment_id, reason)
    repo.set_job_status(job_id, moved)


def visit(
    world: World,
    *,
    created: datetime,
    booked: datetime,
    start: datetime,
    technician: str,
    started: timedelta | None,
    worked: timedelta = 60 * M,
) -> str:
    """A job created, booked (one technician) and, when ``started`` is given, served that long
    after its start; returns its id (the job stays NOT_SERVICED)."""
    (job_id,) = world.job(created_at=created)
    with world.server.db.transaction() as s:
        job = JobRepository(s).get_job(job_id)
        assert job is not None
        booked_job = seed_booking(s, job, start, (technician,), at=booked)
        if started is not None:
            fulfillment = Fulfillment(start=start + started, end=start + started + worked)
            JobRepository(s).set_fulfillment(booked_job.appointments[0].appointment_id, fulfillment, now=booked)
    return job_id


def complete(world: World, job_id: str, when: datetime) -> None:
    with world.server.db.transaction() as s:
        job_service.complete_job(s, seller_id=world.seller_id, job_id=job_id, now=when)


@pytest.fixture
def history(world: World) -> World:
    """Four jobs of 99.50 USD in the world's store, each created a day before its start and booked
    an hour after that:

    - A (technician 0): on time, within its window, completed;
    - B (technician 0): 20 minutes late, ends 20 minutes past its window, completed;
    - C (technician 1): never served, cancelled S1 (customer didn't show up) 30 minutes in;
    - D (technician 1): moved RS4 (provider) 30 minutes after its start, to the next day
      (booked then), served on time there, completed.
    """
    t0, t1 = world.technician_ids
    a = visit(world, created=at(-1), booked=at(-1, 60), start=at(0), technician=t0, started=0 * M)
    complete(world, a, at(0, 180))
    b = visit(world, created=at(0), booked=at(0, 60), start=at(1), technician=t0, started=20 * M)
    complete(world, b, at(1, 180))
    c = visit(world, created=at(1), booked=at(1, 60), start=at(2), technician=t1, started=None)
    with world.server.db.transaction() as s:
        job_service.cancel_job(s, seller_id=world.seller_id, job_id=c, reason_code="S1", now=at(2, 30))
    d = visit(world, created=at(2), booked=at(2, 60), start=at(3), technician=t1, started=None)
    with world.server.db.transaction() as s:
        seed_reschedule(s, d, at(4), "RS4", (t1,), at=at(3, 30))
        job = JobRepository(s).get_job(d)
        assert job is not None and job.active_appointment() is not None
        moved = job.active_appointment()
        assert moved is not None
        JobRepository(s).set_fulfillment(moved.appointment_id, Fulfillment(at(4), at(4, 60)), now=at(4, 60))
    complete(world, d, at(4, 120))
    return world


def get(world: World, path: str, **params: Any) -> httpx.Response:
    query = {"marketplaceIds": US, "startDate": local(-1), "endDate": local(5), **params}
    with world.client() as c:
        return c.get(path, params={k: v for k, v in query.items() if v is not None})


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json()["payload"])


SERVICE_KEYS = [
    "appointmentsServed",
    "onTimeStartRate",
    "earlyStarts",
    "lateStarts",
    "latenessMinutesMedian",
    "latenessMinutesP90",
    "completedWithinWindowRate",
    "durationAdherence",
    "technicianNoShows",
    "buyerNoShows",
    "fulfillmentBreaks",
    "jobsCompleted",
    "firstVisitCompletionRate",
    "revenue",
]


# ---- exact figures -----------------------------------------------------------------------------


def test_technician_performance(history: World) -> None:
    t0, t1 = history.technician_ids
    response = get(history, PATHS[0])
    assert response.headers["x-amzn-ratelimit-limit"] == f"{2.0 * 1000:.1f}"  # 2/s, scaled by the test server
    payload = ok(response)
    assert {k: payload[k] for k in ("startDate", "endDate", "groupBy")} == {
        "startDate": local(-1),
        "endDate": local(5),
        "groupBy": "none",
    }
    assert payload["technicians"] == [
        {
            "technicianId": t0,
            "name": "Tech 0",
            "startDate": local(-1),
            "endDate": local(5),
            "appointmentsServed": 2,
            "onTimeStartRate": 0.5,
            "earlyStarts": 0,
            "lateStarts": 1,
            "latenessMinutesMedian": 20.0,
            "latenessMinutesP90": 20.0,
            "completedWithinWindowRate": 0.5,
            "durationAdherence": 1.0,
            "technicianNoShows": 0,
            "buyerNoShows": 0,
            "fulfillmentBreaks": 0,
            "jobsCompleted": 2,
            "firstVisitCompletionRate": 1.0,
            "revenue": [{"value": 199.0, "currency": "USD"}],
        },
        {
            "technicianId": t1,
            "name": "Tech 1",
            "startDate": local(-1),
            "endDate": local(5),
            "appointmentsServed": 1,
            "onTimeStartRate": 1.0,
            "earlyStarts": 0,
            "lateStarts": 0,
            "latenessMinutesMedian": None,
            "latenessMinutesP90": None,
            "completedWithinWindowRate": 1.0,
            "durationAdherence": 1.0,
            "technicianNoShows": 1,
            "buyerNoShows": 1,
            "fulfillmentBreaks": 1,
            "jobsCompleted": 1,
            "firstVisitCompletionRate": 0.0,
            "revenue": [{"value": 99.5, "currency": "USD"}],
        },
    ]


def test_technician_performance_by_day_and_for_one_technician(history: World) -> None:
    t0, _ = history.technician_ids
    payload = ok(get(history, PATHS[0], groupBy="day", technicianIds=t0))
    rows = payload["technicians"]
    assert [(r["technicianId"], r["period"], r["startDate"], r["endDate"]) for r in rows] == [
        (t0, local(d), local(d), local(d)) for d in range(-1, 6)
    ]
    assert [(r["appointmentsServed"], r["lateStarts"], r["onTimeStartRate"]) for r in rows] == [
        (0, 0, None),
        (1, 0, 1.0),
        (1, 1, 0.0),
        (0, 0, None),
        (0, 0, None),
        (0, 0, None),
        (0, 0, None),
    ]


def test_a_technician_without_appointments_has_nulls(history: World) -> None:
    payload = ok(get(history, PATHS[0], startDate=local(-30), endDate=local(-20)))
    for row in payload["technicians"]:
        assert [row[k] for k in SERVICE_KEYS] == [0, None, 0, 0, None, None, None, None, 0, 0, 0, 0, None, []]


def test_store_performance(history: World) -> None:
    (row,) = ok(get(history, PATHS[1]))["stores"]
    assert row == {
        "storeId": history.store_id,
        "name": "Store",
        "startDate": local(-1),
        "endDate": local(5),
        "appointmentsServed": 3,
        "onTimeStartRate": 0.6667,
        "earlyStarts": 0,
        "lateStarts": 1,
        "latenessMinutesMedian": 20.0,
        "latenessMinutesP90": 20.0,
        "completedWithinWindowRate": 0.6667,
        "durationAdherence": 1.0,
        "technicianNoShows": 1,
        "buyerNoShows": 1,
        "fulfillmentBreaks": 1,
        "jobsCompleted": 3,
        "firstVisitCompletionRate": 0.6667,
        "revenue": [{"value": 298.5, "currency": "USD"}],
        "meanTimeToScheduleHours": 1.0,
        # 23 h for each of the four first bookings, 23.5 h for D's move (booked 30 minutes into D's
        # first window, for the next day at the same time): 115.5 h / 5
        "meanLeadTimeHours": 23.1,
        "jobsCreated": 4,
        "jobsCancelled": {
            "total": 1,
            "byCause": {"buyer": 1, "provider": 0, "product": 0, "scope": 0, "marketplace": 0, "unused": 0},
        },
    }


def test_payment_analytics(history: World) -> None:
    t0, t1 = history.technician_ids
    payload = ok(get(history, PATHS[2]))
    assert payload["periods"] == [
        {
            "startDate": local(-1),
            "endDate": local(5),
            "currency": "USD",
            "gross": 298.5,
            "cancelledValue": 99.5,
            "jobsPaid": 3,
            "technicians": [
                {"technicianId": t0, "gross": 199.0, "jobsPaid": 2},
                {"technicianId": t1, "gross": 99.5, "jobsPaid": 1},
            ],
        }
    ]


def test_payment_analytics_by_week_covers_every_week(history: World) -> None:
    payload = ok(get(history, PATHS[2], groupBy="week", startDate=local(-14), endDate=local(5)))
    weeks = payload["periods"]
    assert weeks[0]["startDate"] == local(-14) and weeks[-1]["endDate"] == local(5)
    assert sum(w["gross"] for w in weeks) == 298.5
    assert sum(w["jobsPaid"] for w in weeks) == 3
    assert all(w["currency"] == "USD" for w in weeks)
    assert len({w["period"] for w in weeks}) == len(weeks) in (3, 4)


def test_another_sellers_history_is_not_counted(history: World, other_world: World) -> None:
    assert ok(get(other_world, PATHS[2]))["periods"][0]["gross"] == 0.0
    (row,) = ok(get(other_world, PATHS[1]))["stores"]
    assert (row["storeId"], row["jobsCreated"], row["appointmentsServed"]) == (other_world.store_id, 0, 0)


# ---- bad input ---------------------------------------------------------------------------------


def error(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    (item,) = response.json()["errors"]
    return dict(item)


def invalid(names: str, details: str) -> dict[str, str]:
    return {"code": "InvalidInput", "message": f"Missing or invalid request parameters: [{names}]", "details": details}


@pytest.mark.parametrize("path", PATHS)
def test_unknown_stores_and_technicians_are_named(world: World, path: str) -> None:
    assert error(get(world, path, storeIds=f"{world.store_id},nope-1,nope-2"), 400) == invalid(
        "storeIds", "storeIds: unknown nope-1, nope-2"
    )
    unknown = invalid("technicianIds", "technicianIds: unknown TNOPE")
    assert error(get(world, path, technicianIds="TNOPE"), 400) == unknown


@pytest.mark.parametrize("path", PATHS)
def test_another_sellers_ids_are_refused_revealing_nothing(world: World, other_world: World, path: str) -> None:
    refused = {"code": "UnauthorizedAction", "message": UNAUTHORIZED, "details": ""}
    assert error(get(world, path, storeIds=other_world.store_id), 403) == refused
    assert error(get(world, path, technicianIds=other_world.technician_ids[0]), 403) == refused


BEYOND = "The range reaches beyond year 1 or 9999."
TOO_LONG = "A request covers at most 366 days."
BAD_PARAMETERS: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"startDate": "2026-03-10", "endDate": "2026-03-09"}, invalid("endDate", "endDate must not be before startDate.")),
    ({"startDate": "2025-01-01", "endDate": "2026-01-02"}, invalid("startDate, endDate", TOO_LONG)),  # 367 days
    ({"groupBy": "year"}, invalid("groupBy", "groupBy: accepts only day, week, month, none")),
    ({"startDate": "2026-02-30"}, invalid("startDate", "startDate: not a calendar date")),
    ({"marketplaceIds": None}, invalid("marketplaceIds", "marketplaceIds: is required")),
    ({"startDate": "9999-12-31", "endDate": None}, invalid("startDate, endDate", BEYOND)),
    ({"startDate": None, "endDate": "0001-01-05"}, invalid("startDate, endDate", BEYOND)),
]  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("params", "expected"), BAD_PARAMETERS)
def test_bad_parameters(world: World, path: str, params: dict[str, Any], expected: dict[str, str]) -> None:
    assert error(get(world, path, **params), 400) == expected


@pytest.mark.parametrize("path", PATHS)
def test_366_days_are_one_request(world: World, path: str) -> None:
    payload = ok(get(world, path, startDate="2025-01-01", endDate="2026-01-01"))
    assert (payload["startDate"], payload["endDate"]) == ("2025-01-01", "2026-01-01")


@pytest.mark.parametrize("path", PATHS)
def test_without_a_token(server: Server, path: str) -> None:
    r = httpx.get(f"{server.url}{path}", params={"marketplaceIds": US})
    assert error(r, 403) == {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "Access token is missing in the request header.",
    }


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("start", "end", "group_by"),
    [("0001-01-01", "0001-12-31", "week"), ("9999-01-01", "9999-12-31", "month"), ("9999-12-31", "9999-12-31", "day")],
)
def test_the_calendars_ends_are_answered(world: World, path: str, start: str, end: str, group_by: str) -> None:
    payload = ok(get(world, path, startDate=start, endDate=end, groupBy=group_by))
    rows = next(v for k, v in payload.items() if isinstance(v, list))
    assert rows[0]["startDate"] == start and rows[-1]["endDate"] == end


def test_openapi_describes_the_analytics(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path, operation, listed in zip(
        PATHS, ("getTechnicianPerformance", "getStorePerformance", "getPaymentAnalytics"),
        ("technicians", "stores", "periods"), strict=True,
    ):  # fmt: skip
        op = spec["paths"][path]["get"]
        assert op["operationId"] == operation
        assert op["summary"]
        assert [p["name"] for p in op["parameters"]] == [
            "marketplaceIds", "startDate", "endDate", "groupBy", "storeIds", "technicianIds"
        ]  # fmt: skip
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert listed in schema["properties"]["payload"]["properties"]
        assert set(op["responses"]) == {"200", "400", "403", "429"}


def test_ranges_are_store_local_days(world: World) -> None:
    """A visit at 03:30 UTC is the previous day in New York (the world's store)."""
    t0 = world.technician_ids[0]
    start = datetime.combine(DAY0.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=3, minutes=30)
    visit(world, created=start - H, booked=start - H, start=start, technician=t0, started=0 * M)
    day = date.fromisoformat(local(0))
    rows = ok(get(world, PATHS[0], technicianIds=t0, groupBy="day", startDate=(day - timedelta(days=1)).isoformat(),
                  endDate=day.isoformat()))["technicians"]  # fmt: skip
    assert [(r["period"], r["appointmentsServed"]) for r in rows] == [((day - timedelta(days=1)).isoformat(), 1),
                                                                      (day.isoformat(), 0)]  # fmt: skip
