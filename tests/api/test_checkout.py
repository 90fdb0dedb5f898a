"""Booking at checkout (issue #11): ``POST /operator/v1/serviceOrders`` with an appointment start
goes through the same booking step as addAppointment and the same technician checks as
assignAppointmentResources, and a failed booking refuses the whole order."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from sp_services.services import operator as op
from tests.support import OPERATOR_KEY, World

US = "ATVPDKIKX0DER"
NEW_YORK = ZoneInfo("America/New_York")  # the test store; no schedule: weekdays 08-18, one at a time


def weekday(world: World, hour: int, minute: int = 0, days: int = 1) -> datetime:
    """A weekday at least ``days`` after the server's now, at hour:minute New York."""
    day = (world.server.clock() + timedelta(days=days)).astimezone(NEW_YORK).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def z(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def order(world: World, *jobs: dict[str, Any], store_id: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{world.server.url}/operator/v1/serviceOrders",
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        json={
            "sellerId": world.seller_id,
            "marketplaceId": US,
            "storeId": store_id or world.store_id,
            "buyer": {"name": "Pat"},
            "serviceLocation": {"serviceLocationType": "IN_HOME"},
            "jobs": list(jobs),
        },
        timeout=30,
    )


def jobs_of(world: World) -> list[dict[str, Any]]:
    with world.client() as c:
        r = c.get("/service/v1/serviceJobs", params={"marketplaceIds": US, "createdAfter": "2000-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    return list(r.json()["payload"]["jobs"])


def refused(response: httpx.Response, job_reason: str) -> None:
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["code"] == "InvalidInput"
    assert error["message"].startswith("Failed to add appointment for jobId : ")
    assert error["message"].endswith(f", reason : {job_reason}")


def test_a_listed_slot_is_booked_with_a_qualified_technician(world: World) -> None:
    start = weekday(world, 10)
    r = order(world, {"asin": world.asin, "appointmentStartTime": z(start), "technicianIds": world.technician_ids[:1]})
    assert r.status_code == 201, r.text
    (job,) = r.json()["jobs"]
    assert job["serviceJobStatus"] == "NOT_SERVICED"
    (appointment,) = job["appointments"]
    assert appointment["appointmentTime"]["startTime"] == start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert [t["technicianId"] for t in appointment["assignedTechnicians"]] == world.technician_ids[:1]
    assert "warnings" not in r.json()


def test_a_full_slot_is_refused_and_nothing_is_created(world: World) -> None:
    start = weekday(world, 11)
    assert order(world, {"asin": world.asin, "appointmentStartTime": z(start)}).status_code == 201
    again = order(world, {"asin": world.asin}, {"asin": world.asin, "appointmentStartTime": z(start)})
    refused(again, "Appointment slot is not available.")
    assert len(jobs_of(world)) == 1  # the refused order's first job was not kept either


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (lambda w: weekday(w, 13, 30), "Appointment slot is not available."),  # off the 60-minute grid
        (lambda w: weekday(w, 20), "Appointment slot is not available."),  # outside working hours
        (lambda w: w.server.clock() - timedelta(days=1), "Start time of appointment should be in the future."),
        (lambda w: weekday(w, 10, days=20), "Appointment slot is not available."),  # past the 14-day horizon
        (
            lambda w: weekday(w, 10, days=400),
            "Start time for appointment is beyond the maximum allowed period of 365 days.",
        ),
    ],
    ids=["off-grid", "closed", "past", "beyond-horizon", "beyond-365-days"],
)
def test_booking_rules_apply_at_checkout(world: World, when: Any, reason: str) -> None:
    start: datetime = when(world).replace(second=0, microsecond=0)
    refused(order(world, {"asin": world.asin, "appointmentStartTime": z(start)}), reason)
    assert jobs_of(world) == []


def test_technicians_get_the_assignment_checks(world: World) -> None:
    now = world.server.clock()
    unskilled = f"U{world.technician_ids[0][1:]}"
    with world.server.db.transaction() as s:
        draft = op.NewTechnician(world.seller_id, "New", technician_id=unskilled, store_ids=(world.store_id,))
        op.create_technician(s, now=now, technician=draft)
    r = order(world, {"asin": world.asin, "appointmentStartTime": z(weekday(world, 9)), "technicianIds": [unskilled]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {
            "code": "RESOURCES_MISSING_REQUIRED_SKILLS",
            "message": f"Resources Missing required INSTALL skills. Applicable resources: {unskilled}",
            "details": "",
        }
    ]
    unknown = order(
        world, {"asin": world.asin, "appointmentStartTime": z(weekday(world, 9)), "technicianIds": ["NOPE"]}
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["message"] == "Invalid resourceId : NOPE provided in the input."
    assert jobs_of(world) == []


def test_a_busy_technician_is_a_warning(world: World) -> None:
    now = world.server.clock()
    second, both = f"{world.store_id}-b", f"B{world.technician_ids[0][1:]}"
    with world.server.db.transaction() as s:
        op.create_store(s, now=now, store=op.NewStore(world.seller_id, US, "Second", store_id=second))
        crew = op.NewTechnician(
            world.seller_id, "Both", technician_id=both, skills=("INSTALL",), store_ids=(world.store_id, second)
        )
        op.create_technician(s, now=now, technician=crew)
    start = z(weekday(world, 9))
    first = order(world, {"asin": world.asin, "appointmentStartTime": start, "technicianIds": [both]})
    assert first.status_code == 201, first.text
    # The second store has room at that hour; the technician is on the first store's job then.
    r = order(world, {"asin": world.asin, "appointmentStartTime": start, "technicianIds": [both]}, store_id=second)
    assert r.status_code == 201, r.text
    (job,) = r.json()["jobs"]
    assert r.json()["warnings"] == [
        {
            "serviceJobId": job["serviceJobId"],
            "code": "RESOURCES_OVERBOOKED",
            "message": "Resources overbooked for this time window.",
        }
    ]
    assert [t["technicianId"] for t in job["appointments"][0]["assignedTechnicians"]] == [both]
