"""Appointments through HTTP: add, reschedule, assign technicians, fulfillment data (docs/design.md §3-4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from sp_services.domain.catalog import Technician
from sp_services.domain.enums import BackgroundCheck, JobStatus, ServiceLocationType
from sp_services.services import operator as op
from tests.support import World

US = "ATVPDKIKX0DER"
MP = {"marketplaceIds": US}
NEW_YORK = ZoneInfo("America/New_York")
DOCUMENT_UNKNOWN = (
    "Failed to process proof of appointment input. Reason: Input document id does not exist. Please check the input"
)
UNAUTHORIZED = "Not authorized to access this resource. Please check your input again."


def monday(world: World, weeks: int = 1) -> date:
    """A Monday at least a week after the server's now (bookable, within 365 days)."""
    day = (world.server.clock() + timedelta(days=7 * weeks)).date()
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """New York wall time on ``day`` as a UTC instant (the test store's timezone)."""
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def publish(world: World, day: date, capacity: int, *, start: int = 9, end: int = 12, resource: str = "") -> None:
    """One schedule record on ``day`` from ``start`` to ``end`` o'clock local."""
    with world.client() as c:
        r = c.put(
            f"/service/v1/serviceResources/{resource or world.store_id}/schedules",
            params=MP,
            json={
                "schedules": [{"startTime": z(local(day, start)), "endTime": z(local(day, end)), "capacity": capacity}]
            },
        )
    assert r.status_code == 200, r.text


def add(world: World, job_id: str, start: str, **time_fields: Any) -> httpx.Response:
    with world.client() as c:
        return c.post(
            f"/service/v1/serviceJobs/{job_id}/appointments",
            json={"appointmentTime": {"startTime": start, **time_fields}},
        )


def reschedule(world: World, job_id: str, appointment_id: str, start: str, code: str = "RS4") -> httpx.Response:
    with world.client() as c:
        return c.post(
            f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}",
            json={"appointmentTime": {"startTime": start}, "rescheduleReasonCode": code},
        )


def assign(world: World, job_id: str, appointment_id: str, body: Any) -> httpx.Response:
    with world.client() as c:
        return c.put(f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}/resources", json=body)


def fulfill(world: World, job_id: str, appointment_id: str, body: Any) -> httpx.Response:
    with world.client() as c:
        return c.put(f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}/fulfillment", json=body)


def job_of(world: World, job_id: str) -> dict[str, Any]:
    with world.client() as c:
        r = c.get(f"/service/v1/serviceJobs/{job_id}")
    assert r.status_code == 200, r.text
    return dict(r.json()["payload"])


def slot_capacity(world: World, at: datetime) -> int | None:
    with world.client() as c:
        r = c.get(
            "/service/v1/appointmentSlots",
            params={
                "asin": world.asin,
                "storeId": world.store_id,
                **MP,
                "startTime": z(at),
                "endTime": z(at + timedelta(minutes=1)),
            },
        )
    assert r.status_code == 200, r.text
    return next((s["capacity"] for s in r.json()["payload"]["appointmentSlots"] if s["startTime"] == z(at)), None)


def error(message: str, code: str = "InvalidInput") -> dict[str, str]:
    return {"code": code, "message": message, "details": ""}


def failed(job_id: str, reason: str) -> dict[str, str]:
    return error(f"Failed to add appointment for jobId : {job_id}, reason : {reason}")


def booked(world: World, day: date, hour: int = 10, capacity: int = 2) -> tuple[str, str]:
    """A job booked through the API at ``hour`` local on ``day``: (job id, appointment id)."""
    publish(world, day, capacity)
    (job_id,) = world.job()
    r = add(world, job_id, z(local(day, hour)))
    assert r.status_code == 200, r.text
    return job_id, r.json()["appointmentId"]


class TestAdd:
    def test_books_a_free_slot_and_takes_its_capacity(self, world: World) -> None:
        day = monday(world)
        publish(world, day, 1)
        first, second = world.job(), world.job()
        at = local(day, 10)
        assert slot_capacity(world, at) == 1
        r = add(world, first[0], z(at))
        assert r.status_code == 200, r.text
        assert r.headers["x-amzn-ratelimit-limit"] == f"{5.0 * 1000:.1f}"
        appointment_id = r.json()["appointmentId"]
        assert r.json() == {"appointmentId": appointment_id}
        assert appointment_id.startswith(f"{first[0]}_")
        job = job_of(world, first[0])
        assert job["serviceJobStatus"] == "NOT_SERVICED"
        assert job["appointments"] == [
            {
                "appointmentId": appointment_id,
                "appointmentStatus": "ACTIVE",
                "appointmentTime": {"startTime": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "durationInMinutes": 60},
            }
        ]
        assert slot_capacity(world, at) == 0
        # The last unit is gone: the next job is refused and left as it was.
        taken = add(world, second[0], z(at))
        assert taken.status_code == 422
        assert taken.json() == {"errors": [failed(second[0], "Appointment slot is not available.")]}
        assert job_of(world, second[0])["serviceJobStatus"] == "PENDING_SCHEDULE"
        assert "appointments" not in job_of(world, second[0])

    def test_duration_must_be_the_services(self, world: World) -> None:
        day = monday(world)
        publish(world, day, 2)
        a, b = world.job(), world.job()
        assert add(world, a[0], z(local(day, 9)), durationInMinutes=60).status_code == 200
        r = add(world, b[0], z(local(day, 9)), durationInMinutes=90)
        assert r.status_code == 422
        assert r.json()["errors"] == [failed(b[0], "Appointment duration must be the service duration of 60 minutes.")]

    @pytest.mark.parametrize(
        ("start", "message"),
        [
            ("2021-01-01T10:00:00.000+05:30", "ISO8601 time 2021-01-01T10:00:00.000+05:30 is not in UTC."),
            ("2021-01-01T10-00:00.000Z", "Failed to parse ISO8601 input: 2021-01-01T10-00:00.000Z"),
        ],
    )
    def test_time_must_parse_and_be_utc(self, world: World, start: str, message: str) -> None:
        (job_id,) = world.job()
        r = add(world, job_id, start)
        assert r.status_code == 422
        assert r.json() == {"errors": [error(message)]}

    def test_time_rules(self, world: World) -> None:
        day = monday(world)
        publish(world, day, 2)
        (job_id,) = world.job()
        now = world.server.clock()
        cases = [
            (z(now - timedelta(days=1)), "Start time of appointment should be in the future."),
            (
                z(now + timedelta(days=366)),
                "Start time for appointment is beyond the maximum allowed period of 365 days.",
            ),
            (z(local(day, 10, 15)), "Appointment slot is not available."),  # off the hourly grid
            (z(local(day, 11)), "Appointment slot is not available."),  # 11:00-12:00 fits; see below
            (z(local(day, 12)), "Appointment slot is not available."),  # after closing
            (z(local(day, 10) + timedelta(seconds=30)), "Appointment slot is not available."),
        ]
        for start, reason in cases:
            r = add(world, job_id, start)
            if start == z(local(day, 11)):
                assert r.status_code == 200, r.text  # the last hour of the day is a real slot
                (job_id,) = world.job()
                continue
            assert r.status_code == 422, start
            assert r.json()["errors"] == [failed(job_id, reason)], start

    def test_job_states(self, world: World, other_world: World) -> None:
        day = monday(world)
        publish(world, day, 5)
        start = z(local(day, 10))
        (completed,) = world.job(JobStatus.COMPLETED)
        r = add(world, completed, start)
        assert r.status_code == 422
        assert r.json()["errors"] == [
            error(f"Operation not allowed on job with jobId : {completed} and jobState : COMPLETED")
        ]
        (active,) = world.job(JobStatus.NOT_SERVICED)
        r = add(world, active, start)
        assert r.json()["errors"] == [failed(active, "Job already has an active appointmentId.")]
        (declined,) = world.job(JobStatus.PAYMENT_DECLINED)
        r = add(world, declined, start)
        assert r.json()["errors"] == [
            error(f"Operation not allowed on job with jobId : {declined} and jobState : PAYMENT_DECLINED")
        ]
        (held,) = world.job(JobStatus.HOLD)
        assert add(world, held, start).status_code == 200
        assert job_of(world, held)["serviceJobStatus"] == "NOT_SERVICED"

        unknown = "invalidJobId-9cb9bc29-3d7d-5e49-5709-efb693d34468"
        r = add(world, unknown, start)
        assert (r.status_code, r.json()["errors"]) == (422, [error(f"No job exist with jobId : {unknown}")])
        (theirs,) = other_world.job()
        r = add(world, theirs, start)
        assert (r.status_code, r.json()["errors"]) == (403, [error(UNAUTHORIZED, "UnauthorizedAction")])
        assert job_of(other_world, theirs)["serviceJobStatus"] == "PENDING_SCHEDULE"

    def test_bad_requests(self, world: World) -> None:
        (job_id,) = world.job()
        r = add(world, "x" * 101, "2030-01-01T10:00:00Z")
        assert (r.status_code, r.json()["errors"]) == (
            400,
            [error("Missing or invalid request parameters: [serviceJobId]")],
        )
        with world.client() as c:
            r = c.post(f"/service/v1/serviceJobs/{job_id}/appointments", json={})
            assert r.json()["errors"] == [error("Missing or invalid request parameters: [appointmentTime]")]
            r = c.post(
                f"/service/v1/serviceJobs/{job_id}/appointments",
                json={"appointmentTime": {"startTime": 5, "durationInMinutes": "60"}},
            )
            assert r.json()["errors"] == [
                error(
                    "Missing or invalid request parameters: "
                    "[appointmentTime.startTime, appointmentTime.durationInMinutes]"
                )
            ]

    def test_cancelling_the_job_releases_the_slot(self, world: World) -> None:
        day = monday(world)
        job_id, _ = booked(world, day, capacity=1)
        assert slot_capacity(world, local(day, 10)) == 0
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S1"})
        assert r.status_code == 200, r.text
        assert slot_capacity(world, local(day, 10)) == 1

    def test_slot_capacity_is_scheduled_minus_reserved_minus_booked(self, world: World) -> None:
        day = monday(world)
        publish(world, day, 3)
        at = local(day, 10)
        with world.client() as c:
            r = c.post(
                "/service/v1/reservation",
                params=MP,
                json={
                    "resourceId": world.store_id,
                    "reservation": {
                        "type": "BREAK",
                        "availability": {"startTime": z(at), "endTime": z(at + timedelta(minutes=30))},
                    },
                },
            )
        assert r.status_code == 200, r.text
        assert slot_capacity(world, at) == 2
        assert add(world, world.job()[0], z(at)).status_code == 200
        assert slot_capacity(world, at) == 1
        with world.client() as c:
            report = c.post(
                f"/service/v1/serviceResources/{world.store_id}/capacity/fixed",
                params=MP,
                json={"startDateTime": z(at), "endDateTime": z(at + timedelta(hours=1)), "slotDuration": 60},
            ).json()["capacities"][0]
        assert (report["scheduledCapacity"], report["reservedCapacity"], report["encumberedCapacity"]) == (3, 1, 1)
        assert report["availableCapacity"] == slot_capacity(world, at) == 3 - 1 - 1
        assert add(world, world.job()[0], z(at)).status_code == 200
        r = add(world, (last := world.job()[0]), z(at))
        assert r.json()["errors"] == [failed(last, "Appointment slot is not available.")]

    def test_stores_without_a_schedule_take_one_job_at_a_time(self, world: World) -> None:
        at = local(monday(world), 10)
        assert slot_capacity(world, at) == 1
        assert add(world, world.job()[0], z(at)).status_code == 200
        assert slot_capacity(world, at) == 0
        (late,) = world.job()
        assert add(world, late, z(at)).json()["errors"] == [failed(late, "Appointment slot is not available.")]
        assert add(world, late, z(local(monday(world), 20))).status_code == 422  # outside working hours


class TestReschedule:
    def test_moves_the_booking_and_drops_technicians(self, world: World) -> None:
        day = monday(world)
        job_id, old = booked(world, day, capacity=1)
        assert assign(world, job_id, old, {"resources": [{"resourceId": t} for t in world.technician_ids]}).json() == {}
        r = reschedule(world, job_id, old, z(local(day, 11)))
        assert r.status_code == 200, r.text
        new = r.json()["appointmentId"]
        assert new != old and new.startswith(f"{job_id}_")
        assert r.json() == {
            "appointmentId": new,
            "warnings": [
                {"code": "RESOURCES_UNASSIGNED", "message": f"Unassigned resources : {','.join(world.technician_ids)}"}
            ],
        }
        job = job_of(world, job_id)
        assert job["serviceJobStatus"] == "NOT_SERVICED"
        assert [(a["appointmentId"], a["appointmentStatus"]) for a in job["appointments"]] == [
            (old, "CANCELLED"),
            (new, "ACTIVE"),
        ]
        assert job["appointments"][1]["rescheduledAppointmentId"] == old
        assert "assignedTechnicians" not in job["appointments"][1]
        assert slot_capacity(world, local(day, 10)) == 1  # released
        assert slot_capacity(world, local(day, 11)) == 0  # taken

    def test_into_its_own_overlapping_slot(self, world: World) -> None:
        """The old booking's capacity is free for the new one, even where the two overlap."""
        day = monday(world)
        job_id, old = booked(world, day, capacity=1)
        r = reschedule(world, job_id, old, z(local(day, 10)))
        assert r.status_code == 200, r.text
        assert r.json() == {"appointmentId": r.json()["appointmentId"]}

    def test_failures_change_nothing(self, world: World) -> None:
        day = monday(world)
        job_id, old = booked(world, day, capacity=1)
        assert add(world, world.job()[0], z(local(day, 11))).status_code == 200
        cases = [
            ("U1", z(local(day, 9)), "Appointment reschedule reason code is not valid."),
            ("RS1", z(local(day, 9)), "Appointment reschedule reason code is not valid."),  # DE heavy-bulky only
            ("RS4", z(local(day, 11)), "Appointment slot is not available."),
            ("RS4", z(world.server.clock() - timedelta(hours=1)), "Start time of appointment should be in the future."),
        ]
        for code, start, reason in cases:
            r = reschedule(world, job_id, old, start, code)
            assert r.status_code == 422, (code, start)
            assert r.json()["errors"] == [failed(job_id, reason)]
        job = job_of(world, job_id)
        assert [(a["appointmentId"], a["appointmentStatus"]) for a in job["appointments"]] == [(old, "ACTIVE")]
        assert slot_capacity(world, local(day, 10)) == 0

    def test_errors(self, world: World, other_world: World) -> None:
        day = monday(world)
        job_id, _ = booked(world, day)
        r = reschedule(world, job_id, f"{job_id}_missing", z(local(day, 11)))
        assert r.json()["errors"] == [
            failed(job_id, f"No active appointment exists with appointmentId : {job_id}_missing.")
        ]
        with world.client() as c:
            r = c.post(f"/service/v1/serviceJobs/{job_id}/appointments/a%20b", json={"appointmentTime": {}})
        assert r.status_code == 400
        assert r.json()["errors"] == [
            error(
                "Missing or invalid request parameters: "
                "[appointmentId, appointmentTime.startTime, rescheduleReasonCode]"
            )
        ]
        (done,) = world.job(JobStatus.COMPLETED)
        r = reschedule(world, done, f"{done}_x", z(local(day, 11)))
        assert r.json()["errors"] == [
            error(f"Operation not allowed on job with jobId : {done} and jobState : COMPLETED")
        ]
        theirs, their_appointment = booked(other_world, day)
        r = reschedule(world, theirs, their_appointment, z(local(day, 11)))
        assert (r.status_code, r.json()["errors"]) == (403, [error(UNAUTHORIZED, "UnauthorizedAction")])
        assert [a["appointmentStatus"] for a in job_of(other_world, theirs)["appointments"]] == ["ACTIVE"]


def technician(world: World, suffix: str, **fields: Any) -> str:
    tech_id = f"{world.technician_ids[0]}{suffix}"
    with world.server.db.transaction() as s:
        op.create_technician(
            s,
            now=world.server.clock(),
            technician=Technician(
                technician_id=tech_id,
                seller_id=fields.pop("seller_id", world.seller_id),
                name=f"Tech {suffix}",
                skills=fields.pop("skills", ("INSTALL",)),
                store_ids=fields.pop("store_ids", (world.store_id,)),
                **fields,
            ),
        )
    return tech_id


class TestAssign:
    def test_assigns_and_replaces(self, world: World) -> None:
        day = monday(world)
        job_id, appointment_id = booked(world, day)
        a, b = world.technician_ids
        r = assign(world, job_id, appointment_id, {"resources": [{"resourceId": a}, {"resourceId": b}]})
        assert (r.status_code, r.json()) == (200, {})
        assert r.headers["x-amzn-ratelimit-limit"] == f"{1.0 * 1000:.1f}"
        assert job_of(world, job_id)["appointments"][0]["assignedTechnicians"] == [
            {"technicianId": a, "name": "Tech 0"},
            {"technicianId": b, "name": "Tech 1"},
        ]
        assert assign(world, job_id, appointment_id, {"resources": [{"resourceId": b}]}).status_code == 200
        assert job_of(world, job_id)["appointments"][0]["assignedTechnicians"] == [
            {"technicianId": b, "name": "Tech 1"}
        ]
        # The sandbox accepts an entry without an id: it names nobody, so the crew is cleared.
        assert assign(world, job_id, appointment_id, {"resources": [{}]}).json() == {}
        assert "assignedTechnicians" not in job_of(world, job_id)["appointments"][0]

    def test_busy_technician_is_assigned_with_a_warning(self, world: World) -> None:
        day = monday(world)
        first, first_appointment = booked(world, day, hour=10)
        second, second_appointment = booked(world, day, hour=10)
        tech = world.technician_ids[0]
        assert assign(world, first, first_appointment, {"resources": [{"resourceId": tech}]}).json() == {}
        r = assign(world, second, second_appointment, {"resources": [{"resourceId": tech}]})
        assert r.status_code == 200
        assert r.json() == {
            "payload": {
                "warnings": [{"code": "RESOURCES_OVERBOOKED", "message": "Resources overbooked for this time window."}]
            }
        }
        assert job_of(world, second)["appointments"][0]["assignedTechnicians"][0]["technicianId"] == tech

    def test_hard_failures_name_every_offender(self, world: World, other_world: World) -> None:
        day = monday(world)
        job_id, appointment_id = booked(world, day)
        unskilled = technician(world, "S", skills=("REPAIR",))
        elsewhere = technician(world, "L", store_ids=())
        in_store = technician(world, "M", service_location_types=(ServiceLocationType.IN_STORE,))
        pending = technician(world, "P", background_check=BackgroundCheck.PENDING)
        foreign = other_world.technician_ids[0]
        # Working only in the afternoon: no capacity at 10:00.
        off_duty = technician(world, "O")
        publish(world, day, 1, start=13, end=17, resource=off_duty)
        everyone = [in_store, unskilled, elsewhere, foreign, pending, off_duty]
        r = assign(world, job_id, appointment_id, {"resources": [{"resourceId": t} for t in everyone]})
        assert r.status_code == 422
        assert r.json() == {
            "errors": [
                error(
                    f"Resources do not have same service location type as job. Applicable resources: {in_store}",
                    "RESOURCES_MISMATCHED_SERVICE_LOCATION_TYPE",
                ),
                error(
                    f"Resources Missing required INSTALL skills. Applicable resources: {unskilled}",
                    "RESOURCES_MISSING_REQUIRED_SKILLS",
                ),
                error(
                    f"Resources are not available in the store. Applicable resources: {elsewhere}",
                    "RESOURCES_NOT_AVAILABLE_IN_LOCATION",
                ),
                error(
                    f"Resources are not registered under this Merchant. Applicable resources: {foreign}",
                    "RESOURCES_NOT_REGISTERED_UNDER_MERCHANT",
                ),
                error(
                    f"Resources background check is incomplete. Applicable resources: {pending}",
                    "RESOURCES_BACKGROUND_CHECK_INCOMPLETE",
                ),
                error(
                    f"Resources do not have sufficient available capacity. Applicable resources: {off_duty}",
                    "RESOURCES_NOT_AVAILABLE_IN_TIME_WINDOW",
                ),
            ]
        }
        assert "assignedTechnicians" not in job_of(world, job_id)["appointments"][0]

    def test_assigned_technicians_with_a_schedule_are_encumbered(self, world: World) -> None:
        day = monday(world)
        job_id, appointment_id = booked(world, day)
        tech = world.technician_ids[0]
        publish(world, day, 1, start=8, end=18, resource=tech)
        assert assign(world, job_id, appointment_id, {"resources": [{"resourceId": tech}]}).json() == {}
        with world.client() as c:
            report = c.post(
                f"/service/v1/serviceResources/{tech}/capacity/fixed",
                params=MP,
                json={"startDateTime": z(local(day, 10)), "endDateTime": z(local(day, 11)), "slotDuration": 60},
            ).json()["capacities"][0]
        assert (report["encumberedCapacity"], report["availableCapacity"]) == (1, 0)

    def test_errors(self, world: World) -> None:
        day = monday(world)
        job_id, appointment_id = booked(world, day)
        r = assign(world, job_id, appointment_id, {"resources": [{"resourceId": "badResourceId"}]})
        assert (r.status_code, r.json()["errors"]) == (
            422,
            [error("Invalid resourceId : badResourceId provided in the input.")],
        )
        r = assign(world, job_id, appointment_id, {"resources": [{"resourceId": "NOSUCHTECH"}]})
        assert r.json()["errors"] == [error("Invalid resourceId : NOSUCHTECH provided in the input.")]
        r = assign(world, job_id, appointment_id, {})
        assert (r.status_code, r.json()["errors"]) == (
            400,
            [error("Resources\u00a0not\u00a0provided\u00a0in\u00a0input\u00a0JSON\u00a0payload.")],
        )
        r = assign(world, job_id, appointment_id, {"resources": []})
        assert r.json()["errors"] == [
            error("Resources\u00a0must\u00a0have\u00a0size\u00a0greater\u00a0than\u00a0or\u00a0equal\u00a0to\u00a01.")
        ]
        r = assign(world, "a b", "c d", {"resources": [{"resourceId": "X"}]})
        assert r.json()["errors"] == [error("Missing or invalid request parameters: [appointmentId, serviceJobId]")]
        r = assign(world, job_id, f"{job_id}_nope", {"resources": [{"resourceId": world.technician_ids[0]}]})
        assert r.json()["errors"] == [
            error(
                f"Failed to Update Appointment for jobId : {job_id}, appointmentId : {job_id}_nope, "
                f"reason : No appointment exists with appointmentId: {job_id}_nope"
            )
        ]
        assert reschedule(world, job_id, appointment_id, z(local(day, 11))).status_code == 200
        r = assign(world, job_id, appointment_id, {"resources": [{"resourceId": world.technician_ids[0]}]})
        assert r.json()["errors"] == [
            error(f"Appointment metadata update is not allowed for appointmentId {appointment_id}")
        ]
        unknown = "invalidJobId-1-9cb9bc29-3d7d-5e49-5709-efb693t25687"
        r = assign(world, unknown, f"{unknown}_x", {"resources": [{"resourceId": "X"}]})
        assert r.json()["errors"] == [error(f"No job exists with jobId : {unknown}")]
        (cancelled,) = world.job(JobStatus.CANCELLED)
        r = assign(world, cancelled, f"{cancelled}_x", {"resources": [{"resourceId": "X"}]})
        assert r.json()["errors"] == [
            error(f"Operation not allowed on job with jobId : {cancelled} and jobState : CANCELLED")
        ]


class TestFulfillment:
    def past_job(self, world: World) -> tuple[str, str]:
        (job_id,) = world.job(
            JobStatus.NOT_SERVICED, starts_at=world.server.clock().replace(microsecond=0) - timedelta(hours=6)
        )
        return job_id, job_of(world, job_id)["appointments"][0]["appointmentId"]

    def test_records_every_part_and_allows_completion(self, world: World) -> None:
        job_id, appointment_id = self.past_job(world)
        now = world.server.clock()
        body = {
            "estimatedArrivalTime": {"startTime": z(now - timedelta(hours=7)), "endTime": z(now - timedelta(hours=6))},
            "fulfillmentTime": {"startTime": z(now - timedelta(hours=6)), "endTime": z(now - timedelta(hours=5))},
            "appointmentResources": [{"resourceId": world.technician_ids[1]}],
        }
        r = fulfill(world, job_id, appointment_id, body)
        assert (r.status_code, r.content) == (204, b"")
        assert r.headers["x-amzn-ratelimit-limit"] == f"{5.0 * 1000:.1f}"
        # A later call may add a part; the rest stays recorded.
        eta_only = {
            "estimatedArrivalTime": {"startTime": "2000-01-01T09:00:00.000Z", "endTime": "2000-01-01T09:30:00.000Z"}
        }
        assert fulfill(world, job_id, appointment_id, eta_only).status_code == 204
        with world.client() as c:
            assert c.put(f"/service/v1/serviceJobs/{job_id}/completions").status_code == 200
        assert job_of(world, job_id)["serviceJobStatus"] == "COMPLETED"

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (
                {"fulfillmentTime": {"endTime": "2021-01-03T13:18:10.668Z"}},
                "Appointment start time is required. Please check the input again.",
            ),
            (
                {"fulfillmentTime": {"startTime": "2021-01-01T10:00:00.000+05:30"}},
                "Appointment end time is required. Please check the input again.",
            ),
            (
                {
                    "fulfillmentTime": {
                        "startTime": "2021-01-01T10:00:00.000+05:30",
                        "endTime": "2021-01-03T13:18:10.668Z",
                    }
                },
                "ISO8601 time 2021-01-01T10:00:00.000+05:30 is not in UTC format. Please provide time in UTC",
            ),
            (
                {"fulfillmentTime": {"startTime": "2021-01-01T10-00:00.000Z", "endTime": "2021-01-03T13:18:10.668Z"}},
                "Could not parse given time input 2021-01-01T10-00:00.000Z. Please provide time in ISO8601 format",
            ),
            (
                {"fulfillmentTime": {"startTime": "9999-01-01T10:00:00.000Z", "endTime": "2021-01-03T13:18:10.668Z"}},
                "Appointment start time should not be in future. Please check the input again",
            ),
            (
                {
                    "fulfillmentTime": {
                        "startTime": "2020-01-01T10:00:00.000+05:30",
                        "endTime": "9999-01-03T13:18:10.668Z",
                    }
                },
                "Appointment end time should not be in future. Please check the input again",
            ),
            (
                {
                    "fulfillmentTime": {
                        "startTime": "2020-01-04T10:00:00.000+05:30",
                        "endTime": "2020-01-03T13:18:10.668Z",
                    }
                },
                "Appointment end time should be after start time. Please check the input again.",
            ),
            (
                {"estimatedArrivalTime": {"startTime": "2021-01-01T10:00:00.000Z"}},
                "Failed to process input. Reason: ETA start and end time both are mandatory field as part of "
                "estimatedArrivalTime object. Please check the input again",
            ),
            (
                {
                    "estimatedArrivalTime": {
                        "startTime": "2021-01-01T10-00:00.000Z",
                        "endTime": "2000-01-01T10:30:00.000Z",
                    }
                },
                "Could not parse given time input 2021-01-01T10-00:00.000Z. Please provide time in ISO8601 format",
            ),
            (
                {"appointmentResources": [{"resourceId": "InValidResourceId-20334421900"}]},
                "One or more resources provided is invalid. Please check the input again.",
            ),
            (
                {"appointmentResources": [{"resourceId": "NOSUCHTECHNICIAN"}]},
                "One or more resources provided does not exist or is deleted. Please check the input again.",
            ),
            (
                {
                    "fulfillmentDocuments": [
                        {"uploadDestinationId": "InvalidUploadDestinationId-1", "contentSha256": "x"}
                    ]
                },
                DOCUMENT_UNKNOWN,
            ),
        ],
    )
    def test_each_rule_with_the_sandbox_text_as_a_bare_list(
        self, world: World, body: dict[str, Any], message: str
    ) -> None:
        job_id, appointment_id = self.past_job(world)
        r = fulfill(world, job_id, appointment_id, body)
        assert r.status_code == 422
        assert r.json() == [error(message)]

    def test_failures_are_reported_together_and_record_nothing(self, world: World, other_world: World) -> None:
        job_id, appointment_id = self.past_job(world)
        body = {
            "fulfillmentTime": {"endTime": "2022-01-03T13:18:10.668Z"},
            "appointmentResources": [
                {"resourceId": other_world.technician_ids[0]},
                {"resourceId": world.technician_ids[0]},
            ],
            "fulfillmentDocuments": [
                {"uploadDestinationId": "nope", "contentSha256": "z06EuBzgzc7GiDNVqcxMqYEr7n0BCS9EtNN7szHe0RT="}
            ],
            "estimatedArrivalTime": {"startTime": "2000-01-01T09:00:00Z", "endTime": "2000-01-01T09:30:00Z"},
        }
        r = fulfill(world, job_id, appointment_id, body)
        assert r.status_code == 422
        assert r.json() == [
            error("One or more resources provided is invalid. Please check the input again."),
            error("Appointment start time is required. Please check the input again."),
            error(DOCUMENT_UNKNOWN),
        ]
        with world.client() as c:  # the valid ETA was not recorded either: completion still lacks the time
            assert c.put(f"/service/v1/serviceJobs/{job_id}/completions").status_code == 422

    def test_job_and_appointment_state(self, world: World, other_world: World) -> None:
        good = {"estimatedArrivalTime": {"startTime": "2000-01-01T09:00:00Z", "endTime": "2000-01-01T09:30:00Z"}}
        (pending,) = world.job()
        r = fulfill(world, pending, f"{pending}_x", good)
        assert r.json() == [
            error(f"Job with id {pending} can not be updated. Please check if the job is in valid status.")
        ]
        job_id, appointment_id = booked(world, monday(world))
        r = fulfill(world, job_id, "invalidAppointmentId-9cb9", good)
        assert r.json() == [
            error(
                "Appointment with id invalidAppointmentId-9cb9 is not present in the job. Please check the input again."
            )
        ]
        assert reschedule(world, job_id, appointment_id, z(local(monday(world), 11))).status_code == 200
        r = fulfill(world, job_id, appointment_id, good)
        assert r.json() == [
            error(
                f"Appointment with appointment id {appointment_id} is not valid to update. Please check the input again"
            )
        ]
        unknown = "invalidJobId-9cb9bc29-3d7d-5e49-5709-efb693d34468"
        r = fulfill(world, unknown, f"{unknown}_x", good)
        assert (r.status_code, r.json()) == (422, [error(f"No job exist with jobId : {unknown}")])
        theirs, their_appointment = TestFulfillment.past_job(self, other_world)
        r = fulfill(world, theirs, their_appointment, good)
        assert (r.status_code, r.json()) == (403, [error(UNAUTHORIZED, "UnauthorizedAction")])

    def test_bad_requests_are_bare_lists_too(self, world: World) -> None:
        job_id, appointment_id = self.past_job(world)
        r = fulfill(world, job_id, appointment_id, {})
        assert (r.status_code, r.json()) == (400, [error("No fulfillment artifacts provided in JSON payload.")])
        good = {"estimatedArrivalTime": {"startTime": "2000-01-01T09:00:00Z", "endTime": "2000-01-01T09:30:00Z"}}
        r = fulfill(world, "a b", appointment_id, good)
        assert (r.status_code, r.json()) == (400, [error("Missing or invalid request parameters: [serviceJobId]")])
        r = fulfill(world, job_id, appointment_id, {"fulfillmentTime": "soon"})
        assert r.json() == [error("Missing or invalid request parameters: [fulfillmentTime]")]
        with httpx.Client(base_url=world.server.url) as c:  # no token: the platform's 403, still a bare list
            r = c.put(f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}/fulfillment", json=good)
        assert r.status_code == 403 and isinstance(r.json(), list)
