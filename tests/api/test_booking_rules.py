"""Booking rules that used to contradict each other (issue #11): slots by job id count the job's
own booking as free, the store's booking horizon bounds add and reschedule (not only the default
window), and an order whose jobs can no longer move on is over."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from sp_services.domain.enums import JobStatus
from tests.support import OPERATOR_KEY, World

US = "ATVPDKIKX0DER"
MP = {"marketplaceIds": US}
NEW_YORK = ZoneInfo("America/New_York")


def weekday(world: World, hour: int, days: int = 1) -> datetime:
    day = (world.server.clock() + timedelta(days=days)).astimezone(NEW_YORK).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK).astimezone(UTC)


def z(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def capacity_one(world: World) -> None:
    """Weekdays 08:00-18:00 New York for 60 days, capacity 1, on the store."""
    first = weekday(world, 8, days=0) - timedelta(days=1)
    record = {
        "startTime": z(first),
        "endTime": z(first + timedelta(hours=10)),
        "capacity": 1,
        "recurrence": {
            "endTime": z(first + timedelta(days=60)),
            "daysOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
        },
    }
    with world.client() as c:
        r = c.put(f"/service/v1/serviceResources/{world.store_id}/schedules", params=MP, json={"schedules": [record]})
    assert r.status_code == 200, r.text


def book(world: World, job_id: str, start: datetime) -> httpx.Response:
    with world.client() as c:
        return c.post(
            f"/service/v1/serviceJobs/{job_id}/appointments", json={"appointmentTime": {"startTime": z(start)}}
        )


def slots(world: World, path: str, start: datetime, end: datetime, **params: str) -> list[tuple[str, int]]:
    with world.client() as c:
        r = c.get(path, params={**MP, "startTime": z(start), "endTime": z(end), **params})
    assert r.status_code == 200, r.text
    return [(s["startTime"], s["capacity"]) for s in r.json()["payload"]["appointmentSlots"]]


def test_slots_for_a_job_count_its_own_booking_as_free(world: World) -> None:
    capacity_one(world)
    (job_id,) = world.job()
    ten = weekday(world, 10)
    assert book(world, job_id, ten).status_code == 200
    window = (ten - timedelta(hours=1), ten + timedelta(hours=2))
    by_job = slots(world, f"/service/v1/serviceJobs/{job_id}/appointmentSlots", *window)
    by_asin = slots(world, "/service/v1/appointmentSlots", *window, asin=world.asin, storeId=world.store_id)
    nine, eleven = ten - timedelta(hours=1), ten + timedelta(hours=1)
    assert by_job == [(z(nine), 1), (z(ten), 1), (z(eleven), 1)]  # what this job could move to
    assert by_asin == [(z(nine), 1), (z(ten), 0), (z(eleven), 1)]  # what another buyer sees
    # And the job can indeed move to any of them.
    with world.client() as c:
        appointment_id = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0][
            "appointmentId"
        ]
        moved = c.post(
            f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}",
            json={"appointmentTime": {"startTime": z(eleven)}, "rescheduleReasonCode": "RS4"},
        )
    assert moved.status_code == 200, moved.text


def test_the_booking_horizon_bounds_add_and_reschedule(world: World) -> None:
    capacity_one(world)
    (job_id,) = world.job()
    far = weekday(world, 10, days=20)  # the store's horizon is 14 days
    assert (
        slots(
            world,
            "/service/v1/appointmentSlots",
            far,
            far + timedelta(hours=2),
            asin=world.asin,
            storeId=world.store_id,
        )
        == []
    )
    r = book(world, job_id, far)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"] == (
        f"Failed to add appointment for jobId : {job_id}, reason : Appointment slot is not available."
    )
    assert book(world, job_id, weekday(world, 10)).status_code == 200
    with world.client() as c:
        appointment_id = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0][
            "appointmentId"
        ]
        moved = c.post(
            f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}",
            json={"appointmentTime": {"startTime": z(far)}, "rescheduleReasonCode": "RS4"},
        )
    assert moved.status_code == 422, moved.text
    assert moved.json()["errors"][0]["message"] == (
        f"Failed to add appointment for jobId : {job_id}, reason : Appointment slot is not available."
    )


def _operator(world: World) -> httpx.Client:
    return httpx.Client(base_url=f"{world.server.url}/operator/v1", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})


def _order_status(world: World, order_id: str) -> dict[str, Any]:
    with _operator(world) as op:
        return dict(op.get(f"/serviceOrders/{order_id}").json())


def test_an_order_of_a_completed_and_a_not_fulfillable_job_completes(world: World) -> None:
    booked = world.server.clock().replace(microsecond=0) - timedelta(hours=5)
    done, stuck = world.job(JobStatus.NOT_SERVICED, starts_at=booked, fulfilled=True, order_jobs=2)
    with world.client() as c:
        order_id = c.get(f"/service/v1/serviceJobs/{done}").json()["payload"]["serviceOrderId"]
        assert c.put(f"/service/v1/serviceJobs/{done}/completions").status_code == 200
    assert _order_status(world, order_id)["status"] == "ACTIVE"
    with _operator(world) as op:
        r = op.put(f"/serviceJobs/{stuck}/status", json={"action": "NOT_FULFILLABLE"})
    assert r.status_code == 200, r.text
    summary = _order_status(world, order_id)
    assert summary["status"] == "COMPLETED"
    assert {j["serviceJobId"]: j["serviceJobStatus"] for j in summary["jobs"]} == {
        done: "COMPLETED",
        stuck: "NOT_FULFILLABLE",
    }


def test_an_order_of_a_cancelled_and_a_not_fulfillable_job_is_cancelled(world: World) -> None:
    first, second = world.job(order_jobs=2)
    with world.client() as c:
        order_id = c.get(f"/service/v1/serviceJobs/{first}").json()["payload"]["serviceOrderId"]
        cancel = c.put(f"/service/v1/serviceJobs/{first}/cancellations", params={"cancellationReasonCode": "S3"})
        assert cancel.status_code == 200, cancel.text
    with _operator(world) as op:
        assert op.put(f"/serviceJobs/{second}/status", json={"action": "NOT_FULFILLABLE"}).status_code == 200
    assert _order_status(world, order_id)["status"] == "CANCELLED"
