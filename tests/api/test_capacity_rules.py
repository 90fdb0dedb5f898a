"""Capacity rules that used to leak (issue #11): reservation updates move only times, technicians
without a schedule are not encumbered, page tokens bound to the slot duration, null is absent,
sub-minute times, the reservation minimum, and a schedule shrinking under bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sp_services.domain.enums import JobStatus
from tests.support import World

US = "ATVPDKIKX0DER"
MP = {"marketplaceIds": US}
DAY, NEXT = "2030-03-04", "2030-03-05"  # Monday and Tuesday; the store is in America/New_York (UTC-5)
ALL_TYPES = ["SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY", "RESERVED_CAPACITY", "ENCUMBERED_CAPACITY"]


def put_schedule(world: World, records: list[dict[str, Any]], resource: str | None = None) -> httpx.Response:
    with world.client() as c:
        return c.put(
            f"/service/v1/serviceResources/{resource or world.store_id}/schedules",
            params=MP,
            json={"schedules": records},
        )


def report(world: World, start: str, end: str, types: list[str], resource: str | None = None) -> dict[str, Any]:
    with world.client() as c:
        r = c.post(
            f"/service/v1/serviceResources/{resource or world.store_id}/capacity/range",
            params=MP,
            json={"capacityTypes": types, "startDateTime": start, "endDateTime": end},
        )
    assert r.status_code == 200, r.text
    return {
        c["capacityType"]: [(s["startDateTime"], s["endDateTime"], s["capacity"]) for s in c["slots"]]
        for c in r.json()["capacities"]
    }


def reservation_body(
    availability: dict[str, Any], kind: str = "VACATION", resource: str | None = None
) -> dict[str, Any]:
    return {"resourceId": resource, "reservation": {"type": kind, "availability": availability}}


def two_day_store(world: World, capacity: int = 3) -> None:
    record = {
        "startTime": f"{DAY}T08:00:00-05:00",
        "endTime": f"{DAY}T18:00:00-05:00",
        "capacity": capacity,
        "recurrence": {"endTime": f"{NEXT}T23:00:00-05:00"},
    }
    assert put_schedule(world, [record]).status_code == 200


class TestUpdateReservationMovesOnlyTimes:
    def _vacation(self, world: World) -> dict[str, Any]:
        two_day_store(world)
        body = reservation_body(
            {
                "startTime": f"{DAY}T10:00:00-05:00",
                "endTime": f"{DAY}T12:00:00-05:00",
                "capacity": 2,
                "recurrence": {"endTime": f"{NEXT}T23:00:00-05:00"},
            },
            resource=world.store_id,
        )
        with world.client() as c:
            r = c.post("/service/v1/reservation", params=MP, json=body)
        assert r.status_code == 200, r.text
        return dict(r.json()["payload"]["reservation"])

    def test_capacity_and_recurrence_are_kept(self, world: World) -> None:
        old = self._vacation(world)
        moved_times = {"startTime": f"{DAY}T11:00:00-05:00", "endTime": f"{DAY}T13:00:00-05:00"}
        with world.client() as c:
            r = c.put(
                f"/service/v1/reservation/{old['reservationId']}",
                params=MP,
                json=reservation_body(moved_times, resource=world.store_id),
            )
        assert r.status_code == 200, r.text
        moved = r.json()["payload"]["reservation"]
        assert "warnings" not in r.json()["payload"]
        assert moved["availability"] == {
            "startTime": f"{DAY}T16:00:00.000Z",
            "endTime": f"{DAY}T18:00:00.000Z",
            "capacity": 2,
            "recurrence": {"endTime": "2030-03-06T04:00:00.000Z"},
        }
        assert moved["type"] == "VACATION" and moved["reservationId"] != old["reservationId"]
        # Both days hold 2 reserved over the moved hours, and none over the old first hour.
        reserved = report(world, f"{DAY}T15:00:00Z", f"{NEXT}T23:00:00Z", ["RESERVED_CAPACITY"])["RESERVED_CAPACITY"]
        assert reserved == [
            (f"{DAY}T15:00:00Z", f"{DAY}T16:00:00Z", 0),
            (f"{DAY}T16:00:00Z", f"{DAY}T18:00:00Z", 2),
            (f"{DAY}T18:00:00Z", f"{NEXT}T16:00:00Z", 0),
            (f"{NEXT}T16:00:00Z", f"{NEXT}T18:00:00Z", 2),
            (f"{NEXT}T18:00:00Z", f"{NEXT}T23:00:00Z", 0),
        ]

    def test_a_different_capacity_sent_is_not_taken_and_said_so(self, world: World) -> None:
        old = self._vacation(world)
        sent = {"startTime": f"{DAY}T11:00:00-05:00", "endTime": f"{DAY}T13:00:00-05:00", "capacity": 1}
        with world.client() as c:
            r = c.put(
                f"/service/v1/reservation/{old['reservationId']}",
                params=MP,
                json=reservation_body(sent, resource=world.store_id),
            )
        assert r.status_code == 200, r.text
        payload = r.json()["payload"]
        assert payload["reservation"]["availability"]["capacity"] == 2
        assert payload["warnings"] == [
            {
                "code": "FieldsNotUpdated",
                "message": "updateReservation changes only startTime and endTime; not taken: capacity (kept 2).",
                "details": "Cancel the reservation and create a new one to change them.",
            }
        ]
        reserved = report(world, f"{NEXT}T16:00:00Z", f"{NEXT}T18:00:00Z", ["RESERVED_CAPACITY"])
        assert reserved["RESERVED_CAPACITY"] == [(f"{NEXT}T16:00:00Z", f"{NEXT}T18:00:00Z", 2)]

    def test_a_moved_span_that_does_not_fit_with_the_kept_capacity_is_refused(self, world: World) -> None:
        old = self._vacation(world)
        # 17:00-19:00 local: the last hour is outside the 08-18 schedule, so capacity 2 cannot fit.
        sent = {"startTime": f"{DAY}T17:00:00-05:00", "endTime": f"{DAY}T19:00:00-05:00"}
        with world.client() as c:
            r = c.put(
                f"/service/v1/reservation/{old['reservationId']}",
                params=MP,
                json=reservation_body(sent, resource=world.store_id),
            )
        assert r.status_code == 400, r.text
        assert (
            r.json()["errors"][0]["message"]
            == "Resource does not have sufficient available capacity for the reservation."
        )
        # Nothing moved: the old reservation still holds its hours on both days.
        reserved = report(world, f"{NEXT}T15:00:00Z", f"{NEXT}T17:00:00Z", ["RESERVED_CAPACITY"])
        assert reserved["RESERVED_CAPACITY"] == [(f"{NEXT}T15:00:00Z", f"{NEXT}T17:00:00Z", 2)]


def test_a_technician_without_a_schedule_is_not_encumbered(world: World) -> None:
    start = (world.server.clock() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    world.job(JobStatus.NOT_SERVICED, starts_at=start)  # assigns world.technician_ids[0]
    tech = world.technician_ids[0]
    window = (
        (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    runs = report(world, *window, ALL_TYPES, resource=tech)
    assert runs == {kind: [(window[0], window[1], 0)] for kind in ALL_TYPES}


def test_a_fixed_capacity_page_token_is_bound_to_its_slot_duration(world: World) -> None:
    body = {"startDateTime": f"{DAY}T00:00:00Z", "endDateTime": "2030-04-20T00:00:00Z", "slotDuration": 360}
    with world.client() as c:
        first = c.post(f"/service/v1/serviceResources/{world.store_id}/capacity/fixed", params=MP, json=body)
        assert first.status_code == 200, first.text
        token = first.json()["nextPageToken"]
        same = c.post(
            f"/service/v1/serviceResources/{world.store_id}/capacity/fixed",
            params={**MP, "nextPageToken": token},
            json=body,
        )
        other = c.post(
            f"/service/v1/serviceResources/{world.store_id}/capacity/fixed",
            params={**MP, "nextPageToken": token},
            json={**body, "slotDuration": 60},
        )
    assert same.status_code == 200 and same.json()["slotDuration"] == 360
    assert other.status_code == 400, other.text
    assert other.json() == {
        "errors": [
            {
                "code": "InvalidInput",
                "message": "This is invalid input",
                "details": "Received the following errors: [nextPageToken does not belong to this query]",
            }
        ]
    }


class TestNullIsAbsent:
    """JSON null reads as a field left out, for every optional body field (docs/deviations.md)."""

    def test_update_schedule_capacity_and_recurrence(self, world: World) -> None:
        record = {"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T17:00:00-05:00"}
        for field in ("capacity", "recurrence"):
            r = put_schedule(world, [{**record, field: None}])
            assert r.status_code == 200, (field, r.text)
            assert r.json() == {}
        assert report(world, f"{DAY}T14:00:00Z", f"{DAY}T22:00:00Z", ["SCHEDULED_CAPACITY"]) == {
            "SCHEDULED_CAPACITY": [(f"{DAY}T14:00:00Z", f"{DAY}T22:00:00Z", 1)]
        }

    def test_create_reservation_capacity(self, world: World) -> None:
        put_schedule(world, [{"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T17:00:00-05:00"}])
        body = reservation_body(
            {"startTime": f"{DAY}T10:00:00-05:00", "endTime": f"{DAY}T11:00:00-05:00", "capacity": None},
            kind="BREAK",
            resource=world.store_id,
        )
        with world.client() as c:
            r = c.post("/service/v1/reservation", params=MP, json=body)
        assert r.status_code == 200, r.text
        assert r.json()["payload"]["reservation"]["availability"]["capacity"] == 1

    def test_fixed_slot_duration(self, world: World) -> None:
        body = {"startDateTime": f"{DAY}T14:00:00Z", "endDateTime": f"{DAY}T14:15:00Z", "slotDuration": None}
        with world.client() as c:
            r = c.post(f"/service/v1/serviceResources/{world.store_id}/capacity/fixed", params=MP, json=body)
        assert r.status_code == 200, r.text
        assert r.json()["slotDuration"] == 5
        assert [b["startDateTime"] for b in r.json()["capacities"]] == [
            f"{DAY}T14:00:00Z",
            f"{DAY}T14:05:00Z",
            f"{DAY}T14:10:00Z",
        ]


class TestSubMinuteTimes:
    def test_schedules_are_taken_inward_and_reports_clipped_to_the_window_exactly(self, world: World) -> None:
        r = put_schedule(world, [{"startTime": f"{DAY}T09:00:30-05:00", "endTime": f"{DAY}T17:00:30-05:00"}])
        assert r.status_code == 200, r.text
        runs = report(world, f"{DAY}T14:00:30Z", f"{DAY}T22:30:15Z", ["SCHEDULED_CAPACITY"])["SCHEDULED_CAPACITY"]
        assert runs == [
            (f"{DAY}T14:00:30Z", f"{DAY}T14:01:00Z", 0),  # 09:00:30 local rounds up to 09:01
            (f"{DAY}T14:01:00Z", f"{DAY}T22:00:00Z", 1),  # 17:00:30 rounds down to 17:00
            (f"{DAY}T22:00:00Z", f"{DAY}T22:30:15Z", 0),
        ]

    def test_reservations_are_taken_outward(self, world: World) -> None:
        put_schedule(world, [{"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T17:00:00-05:00"}])
        body = reservation_body(
            {"startTime": f"{DAY}T10:00:30-05:00", "endTime": f"{DAY}T10:30:10-05:00"},
            kind="BREAK",
            resource=world.store_id,
        )
        with world.client() as c:
            r = c.post("/service/v1/reservation", params=MP, json=body)
        assert r.status_code == 200, r.text
        assert r.json()["payload"]["reservation"]["availability"] == {
            "startTime": f"{DAY}T15:00:00.000Z",
            "endTime": f"{DAY}T15:31:00.000Z",
            "capacity": 1,
        }


def test_a_reservation_shorter_than_the_marketplace_minimum_is_refused(world: World) -> None:
    put_schedule(world, [{"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T17:00:00-05:00"}])
    body = reservation_body(
        {"startTime": f"{DAY}T10:00:00-05:00", "endTime": f"{DAY}T10:03:00-05:00"},
        kind="BREAK",
        resource=world.store_id,
    )
    with world.client() as c:
        r = c.post("/service/v1/reservation", params=MP, json=body)
    assert r.status_code == 400, r.text
    assert r.json() == {
        "errors": [
            {
                "code": "InvalidInput",
                "message": "Missing or invalid request parameters: [reservation]",
                "details": "reservation: shorter than the marketplace's minimum slot of 5 minutes",
            }
        ]
    }


@pytest.mark.parametrize("resource", ["store", "technician"])
def test_a_schedule_shrinking_under_bookings_warns_and_keeps_them(world: World, resource: str) -> None:
    start = (world.server.clock() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=start)
    with world.client() as c:
        appointment_id = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0][
            "appointmentId"
        ]
    target = world.store_id if resource == "store" else world.technician_ids[0]
    covering = {"startTime": _z(start - timedelta(hours=2)), "endTime": _z(start + timedelta(hours=3))}
    assert put_schedule(world, [covering], target).json() == {}  # capacity 1 holds the booking
    elsewhere = {"startTime": _z(start + timedelta(days=1)), "endTime": _z(start + timedelta(days=1, hours=4))}
    r = put_schedule(world, [elsewhere], target)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "payload": [
            {
                "warnings": [
                    {
                        "code": "AppointmentsOverCapacity",
                        "message": (
                            "The new schedule leaves ACTIVE appointments over the resource's capacity; they are kept."
                        ),
                        "details": f"appointmentIds: {appointment_id}",
                    }
                ]
            }
        ]
    }
    with world.client() as c:
        job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
    assert job["appointments"][0]["appointmentStatus"] == "ACTIVE"


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
