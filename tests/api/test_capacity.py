"""Schedules, reservations and capacity reports through HTTP (docs/design.md §4)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from sp_services.domain.enums import JobStatus
from tests.support import World

US = "ATVPDKIKX0DER"
MP = {"marketplaceIds": US}
DAY = "2030-03-04"  # a Monday; the test store is in America/New_York (UTC-5 in March before DST)


def schedule(world: World, records: list[dict[str, Any]], resource: str | None = None) -> httpx.Response:
    with world.client() as c:
        return c.put(
            f"/service/v1/serviceResources/{resource or world.store_id}/schedules",
            params=MP,
            json={"schedules": records},
        )


def rng(world: World, body: dict[str, Any], resource: str | None = None, **params: str) -> httpx.Response:
    with world.client() as c:
        return c.post(
            f"/service/v1/serviceResources/{resource or world.store_id}/capacity/range",
            params={**MP, **params},
            json=body,
        )


def fixed(world: World, body: dict[str, Any], **params: str) -> httpx.Response:
    with world.client() as c:
        return c.post(
            f"/service/v1/serviceResources/{world.store_id}/capacity/fixed", params={**MP, **params}, json=body
        )


def reserve(world: World, start: str, end: str, capacity: int = 1, kind: str = "BREAK") -> httpx.Response:
    with world.client() as c:
        return c.post(
            "/service/v1/reservation",
            params=MP,
            json={
                "resourceId": world.store_id,
                "reservation": {
                    "type": kind,
                    "availability": {"startTime": start, "endTime": end, "capacity": capacity},
                },
            },
        )


def nine_to_five(capacity: int = 2) -> dict[str, Any]:
    return {"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T17:00:00-05:00", "capacity": capacity}


class TestSchedule:
    def test_replace_and_report(self, world: World) -> None:
        r = schedule(world, [nine_to_five(2)])
        assert r.status_code == 200, r.text
        assert r.json() == {}
        assert r.headers["x-amzn-ratelimit-limit"] == "5000.0"
        report = rng(
            world,
            {
                "capacityTypes": ["SCHEDULED_CAPACITY"],
                "startDateTime": f"{DAY}T13:00:00Z",
                "endDateTime": f"{DAY}T23:00:00Z",
            },
        )
        assert report.status_code == 200, report.text
        assert report.json() == {
            "resourceId": world.store_id,
            "capacities": [
                {
                    "capacityType": "SCHEDULED_CAPACITY",
                    "slots": [
                        {"startDateTime": f"{DAY}T13:00:00Z", "endDateTime": f"{DAY}T14:00:00Z", "capacity": 0},
                        {"startDateTime": f"{DAY}T14:00:00Z", "endDateTime": f"{DAY}T22:00:00Z", "capacity": 2},
                        {"startDateTime": f"{DAY}T22:00:00Z", "endDateTime": f"{DAY}T23:00:00Z", "capacity": 0},
                    ],
                }
            ],
        }
        # Replacing means the old records are gone.
        assert schedule(world, [{"startTime": f"{DAY}T20:00:00Z", "endTime": f"{DAY}T21:00:00Z"}]).status_code == 200
        slots = rng(
            world,
            {
                "capacityTypes": ["SCHEDULED_CAPACITY"],
                "startDateTime": f"{DAY}T13:00:00Z",
                "endDateTime": f"{DAY}T23:00:00Z",
            },
        ).json()["capacities"][0]["slots"]
        assert [(s["startDateTime"][11:16], s["capacity"]) for s in slots] == [("13:00", 0), ("20:00", 1), ("21:00", 0)]

    def test_override_warning(self, world: World) -> None:
        later = {"startTime": f"{DAY}T12:00:00-05:00", "endTime": f"{DAY}T13:00:00-05:00", "capacity": 5}
        r = schedule(world, [nine_to_five(2), later])
        assert r.status_code == 200
        assert r.json() == {
            "payload": [
                {
                    "availability": {
                        "startTime": f"{DAY}T17:00:00.000Z",
                        "endTime": f"{DAY}T18:00:00.000Z",
                        "capacity": 5,
                    },
                    "warnings": [
                        {
                            "code": "ScheduleOverride",
                            "message": "This AvailabilityRecord will override the current "
                            "schedule as the time-ranges overlap",
                        }
                    ],
                }
            ]
        }
        slots = rng(
            world,
            {
                "capacityTypes": ["SCHEDULED_CAPACITY"],
                "startDateTime": f"{DAY}T14:00:00Z",
                "endDateTime": f"{DAY}T22:00:00Z",
            },
        ).json()["capacities"][0]["slots"]
        assert [s["capacity"] for s in slots] == [2, 5, 2]

    def test_recurring_weekdays_keep_local_hours_across_dst(self, world: World) -> None:
        # 2030-03-10 is the US DST change: 09:00 New York is 14:00Z before it and 13:00Z after.
        record = {
            "startTime": "2030-03-07T09:00:00-05:00",
            "endTime": "2030-03-07T17:00:00-05:00",
            "recurrence": {"endTime": "2030-03-12T23:00:00-04:00", "daysOfWeek": ["MONDAY", "THURSDAY"]},
        }
        assert schedule(world, [record]).status_code == 200
        slots = rng(
            world,
            {
                "capacityTypes": ["SCHEDULED_CAPACITY"],
                "startDateTime": "2030-03-07T00:00:00Z",
                "endDateTime": "2030-03-13T00:00:00Z",
            },
        ).json()["capacities"][0]["slots"]
        on = [(s["startDateTime"], s["endDateTime"]) for s in slots if s["capacity"] == 1]
        assert on == [
            ("2030-03-07T14:00:00Z", "2030-03-07T22:00:00Z"),
            ("2030-03-11T13:00:00Z", "2030-03-11T21:00:00Z"),
        ]

    @pytest.mark.parametrize(
        ("records", "message"),
        [
            ([], "Missing or invalid request parameters: [schedule]"),
            (
                [{"startTime": f"{DAY}T10:00:00Z", "endTime": f"{DAY}T09:00:00Z"}],
                "Missing or invalid request parameters: [schedules[0]]",
            ),
            (
                [{"startTime": f"{DAY}T10:00:00Z", "endTime": f"{DAY}T10:04:00Z"}],
                "Missing or invalid request parameters: [schedules[0]]",
            ),
            (
                [{"startTime": "yesterday", "endTime": f"{DAY}T10:00:00Z"}],
                "Missing or invalid request parameters: [schedules[0].startTime]",
            ),
            (
                [{"startTime": f"{DAY}T09:00:00Z", "endTime": f"{DAY}T10:00:00Z", "capacity": 0}],
                "Missing or invalid request parameters: [schedules[0].capacity]",
            ),
            (
                [
                    {
                        "startTime": f"{DAY}T09:00:00Z",
                        "endTime": f"{DAY}T10:00:00Z",
                        "recurrence": {"endTime": f"{DAY}T23:00:00Z", "daysOfWeek": ["FUNDAY"]},
                    }
                ],
                "Missing or invalid request parameters: [schedules[0].recurrence.daysOfWeek]",
            ),
        ],
    )
    def test_bad_schedules(self, world: World, records: list[dict[str, Any]], message: str) -> None:
        assert schedule(world, [nine_to_five()]).status_code == 200
        r = schedule(world, records)
        assert r.status_code == 400
        assert r.json()["errors"][0]["message"] == message
        # Nothing changed.
        slots = rng(
            world,
            {
                "capacityTypes": ["SCHEDULED_CAPACITY"],
                "startDateTime": f"{DAY}T14:00:00Z",
                "endDateTime": f"{DAY}T22:00:00Z",
            },
        ).json()["capacities"][0]["slots"]
        assert slots == [{"startDateTime": f"{DAY}T14:00:00Z", "endDateTime": f"{DAY}T22:00:00Z", "capacity": 2}]

    def test_five_minute_records_in_the_us(self, world: World) -> None:
        assert schedule(world, [{"startTime": f"{DAY}T10:00:00Z", "endTime": f"{DAY}T10:05:00Z"}]).status_code == 200

    def test_technician_resource_and_ownership(self, world: World, other_world: World) -> None:
        assert schedule(world, [nine_to_five(1)], resource=world.technician_ids[0]).status_code == 200
        foreign = schedule(world, [nine_to_five(1)], resource=other_world.store_id)
        assert foreign.status_code == 403
        assert foreign.json()["errors"][0]["code"] == "UnauthorizedAction"
        unknown = schedule(world, [nine_to_five(1)], resource="no-such-resource")
        assert unknown.status_code == 400
        assert unknown.json()["errors"][0]["message"] == "Invalid request parameters: [resourceId]"


class TestReports:
    def test_available_reserved_encumbered(self, world: World) -> None:
        assert schedule(world, [nine_to_five(2)]).status_code == 200
        assert reserve(world, f"{DAY}T15:00:00Z", f"{DAY}T16:00:00Z").status_code == 200
        world.job(JobStatus.NOT_SERVICED, starts_at=_dt(f"{DAY}T15:30:00Z"))
        body = {
            "capacityTypes": ["AVAILABLE_CAPACITY", "RESERVED_CAPACITY", "ENCUMBERED_CAPACITY"],
            "startDateTime": f"{DAY}T14:00:00Z",
            "endDateTime": f"{DAY}T17:00:00Z",
        }
        caps = {
            c["capacityType"]: [(s["startDateTime"][11:16], s["endDateTime"][11:16], s["capacity"]) for s in c["slots"]]
            for c in rng(world, body).json()["capacities"]
        }
        assert caps == {
            "AVAILABLE_CAPACITY": [
                ("14:00", "15:00", 2),
                ("15:00", "15:30", 1),
                ("15:30", "16:00", 0),
                ("16:00", "16:30", 1),
                ("16:30", "17:00", 2),
            ],
            "RESERVED_CAPACITY": [("14:00", "15:00", 0), ("15:00", "16:00", 1), ("16:00", "17:00", 0)],
            "ENCUMBERED_CAPACITY": [("14:00", "15:30", 0), ("15:30", "16:30", 1), ("16:30", "17:00", 0)],
        }
        f = fixed(
            world,
            {
                **body,
                "capacityTypes": [
                    "SCHEDULED_CAPACITY",
                    "AVAILABLE_CAPACITY",
                    "RESERVED_CAPACITY",
                    "ENCUMBERED_CAPACITY",
                ],
                "slotDuration": 60,
            },
        )
        assert f.status_code == 200, f.text
        assert f.json() == {
            "resourceId": world.store_id,
            "slotDuration": 60,
            "capacities": [
                {
                    "startDateTime": f"{DAY}T14:00:00Z",
                    "scheduledCapacity": 2,
                    "availableCapacity": 2,
                    "reservedCapacity": 0,
                    "encumberedCapacity": 0,
                },
                {
                    "startDateTime": f"{DAY}T15:00:00Z",
                    "scheduledCapacity": 2,
                    "availableCapacity": 0,
                    "reservedCapacity": 1,
                    "encumberedCapacity": 1,
                },
                {
                    "startDateTime": f"{DAY}T16:00:00Z",
                    "scheduledCapacity": 2,
                    "availableCapacity": 1,
                    "reservedCapacity": 0,
                    "encumberedCapacity": 1,
                },
            ],
        }

    def test_recurring_reservation_counts_on_each_day(self, world: World) -> None:
        """A daily lunch break reserved once takes capacity on every day it recurs, and only those."""
        record = {**nine_to_five(2), "recurrence": {"endTime": "2030-03-05T23:00:00-05:00"}}
        assert schedule(world, [record]).status_code == 200
        with world.client() as c:
            r = c.post(
                "/service/v1/reservation",
                params=MP,
                json={
                    "resourceId": world.store_id,
                    "reservation": {
                        "type": "BREAK",
                        "availability": {
                            "startTime": f"{DAY}T12:00:00-05:00",
                            "endTime": f"{DAY}T13:00:00-05:00",
                            "recurrence": {"endTime": "2030-03-05T23:00:00-05:00"},
                        },
                    },
                },
            )
        assert r.status_code == 200, r.text
        body = {
            "capacityTypes": ["RESERVED_CAPACITY"],
            "startDateTime": f"{DAY}T00:00:00Z",
            "endDateTime": "2030-03-07T00:00:00Z",
        }
        slots = rng(world, body).json()["capacities"][0]["slots"]
        assert [(s["startDateTime"], s["endDateTime"], s["capacity"]) for s in slots if s["capacity"]] == [
            ("2030-03-04T17:00:00Z", "2030-03-04T18:00:00Z", 1),
            ("2030-03-05T17:00:00Z", "2030-03-05T18:00:00Z", 1),
        ]

    def test_range_pages_by_35_days(self, world: World) -> None:
        assert (
            schedule(world, [{"startTime": "2030-01-01T00:00:00Z", "endTime": "2030-06-01T00:00:00Z"}]).status_code
            == 200
        )
        body = {
            "capacityTypes": ["SCHEDULED_CAPACITY"],
            "startDateTime": "2030-03-01T00:00:00Z",
            "endDateTime": "2030-05-30T00:00:00Z",
        }
        first = rng(world, body).json()
        assert first["capacities"][0]["slots"] == [
            {"startDateTime": "2030-03-01T00:00:00Z", "endDateTime": "2030-04-05T00:00:00Z", "capacity": 1}
        ]
        second = rng(world, body, nextPageToken=first["nextPageToken"]).json()
        third = rng(world, body, nextPageToken=second["nextPageToken"]).json()
        assert third["capacities"][0]["slots"][-1]["endDateTime"] == "2030-05-30T00:00:00Z"
        assert "nextPageToken" not in third
        other = rng(world, {**body, "endDateTime": "2030-05-29T00:00:00Z"}, nextPageToken=first["nextPageToken"])
        assert other.status_code == 400

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"startDateTime": f"{DAY}T00:00:00Z"}, "startDateTime or endDateTime are not present"),
            (
                {"startDateTime": f"{DAY}T02:00:00Z", "endDateTime": f"{DAY}T00:00:00Z"},
                "endDateTime should be after Start Time",
            ),
            (
                {"startDateTime": "2021-0", "endDateTime": f"{DAY}T00:00:00Z"},
                "startDateTime is not a valid ISO date/time object",
            ),
            (
                {"startDateTime": f"{DAY}T00:00:00Z", "endDateTime": f"{DAY}T02:00:00Z", "slotDuration": 400},
                "Slot duration is not valid, it should be a multiple of 5 and within allowed range.",
            ),
            (
                {"startDateTime": f"{DAY}T00:00:00Z", "endDateTime": f"{DAY}T02:00:00Z", "slotDuration": 12},
                "Slot duration is not valid, it should be a multiple of 5 and within allowed range.",
            ),
        ],
    )
    def test_report_errors(self, world: World, body: dict[str, Any], detail: str) -> None:
        r = fixed(world, {"capacityTypes": ["SCHEDULED_CAPACITY"], **body})
        assert r.status_code == 400
        assert r.json()["errors"] == [
            {
                "code": "InvalidInput",
                "message": "This is invalid input",
                "details": f"Received the following errors: [{detail}]",
            }
        ]


class TestReservations:
    def test_lifecycle(self, world: World) -> None:
        assert schedule(world, [nine_to_five(1)]).status_code == 200
        created = reserve(world, f"{DAY}T15:00:00Z", f"{DAY}T15:30:00Z")
        assert created.status_code == 200, created.text
        res = created.json()["payload"]["reservation"]
        assert res["type"] == "BREAK"
        assert res["availability"] == {
            "startTime": f"{DAY}T15:00:00.000Z",
            "endTime": f"{DAY}T15:30:00.000Z",
            "capacity": 1,
        }
        with world.client() as c:
            moved = c.put(
                f"/service/v1/reservation/{res['reservationId']}",
                params=MP,
                json={
                    "resourceId": world.store_id,
                    "reservation": {
                        "type": "BREAK",
                        "availability": {"startTime": f"{DAY}T16:00:00Z", "endTime": f"{DAY}T16:30:00Z"},
                    },
                },
            )
            assert moved.status_code == 200, moved.text
            new_id = moved.json()["payload"]["reservation"]["reservationId"]
            assert new_id != res["reservationId"]
            gone = c.delete(f"/service/v1/reservation/{res['reservationId']}", params=MP)
            assert gone.status_code == 404
            assert gone.json()["errors"] == [
                {"code": "InvalidInput", "message": "Reservation does not exist", "details": ""}
            ]
            again = c.put(
                f"/service/v1/reservation/{res['reservationId']}",
                params=MP,
                json={
                    "resourceId": world.store_id,
                    "reservation": {
                        "type": "BREAK",
                        "availability": {"startTime": f"{DAY}T16:00:00Z", "endTime": f"{DAY}T16:30:00Z"},
                    },
                },
            )
            assert again.status_code == 404
            assert (
                again.json()["errors"][0]["message"] == f"Could not find reservation with ID: [{res['reservationId']}]"
            )
            cancelled = c.delete(f"/service/v1/reservation/{new_id}", params=MP)
            assert cancelled.status_code == 204
            assert cancelled.content == b""
        reserved = rng(
            world,
            {
                "capacityTypes": ["RESERVED_CAPACITY"],
                "startDateTime": f"{DAY}T14:00:00Z",
                "endDateTime": f"{DAY}T22:00:00Z",
            },
        ).json()["capacities"][0]["slots"]
        assert reserved == [{"startDateTime": f"{DAY}T14:00:00Z", "endDateTime": f"{DAY}T22:00:00Z", "capacity": 0}]

    def test_needs_available_capacity(self, world: World) -> None:
        assert schedule(world, [nine_to_five(1)]).status_code == 200
        assert reserve(world, f"{DAY}T15:00:00Z", f"{DAY}T16:00:00Z").status_code == 200
        clash = reserve(world, f"{DAY}T15:30:00Z", f"{DAY}T16:30:00Z")
        assert clash.status_code == 400
        assert clash.json()["errors"][0]["message"] == (
            "Resource does not have sufficient available capacity for the reservation."
        )
        outside = reserve(world, f"{DAY}T23:00:00Z", f"{DAY}T23:30:00Z")
        assert outside.status_code == 400

    def test_bad_bodies(self, world: World) -> None:
        with world.client() as c:

            def post(body: dict[str, Any]) -> httpx.Response:
                return c.post("/service/v1/reservation", params=MP, json=body)

            cases = [
                ({"reservation": {}}, "Missing or invalid request parameters: [resourceId]"),
                ({"resourceId": "bad id!", "reservation": {}}, "Missing or invalid request parameters: [resourceId]"),
                (
                    {"resourceId": world.store_id, "reservation": {}},
                    "Missing or invalid request parameters: [reservation]",
                ),
                # A well-formed id that names no resource: the model's message for an unknown resource.
                (
                    {
                        "resourceId": "null",
                        "reservation": {
                            "type": "BREAK",
                            "availability": {"startTime": f"{DAY}T15:00:00Z", "endTime": f"{DAY}T16:00:00Z"},
                        },
                    },
                    "Invalid request parameters: [resourceId]",
                ),
            ]
            for body, message in cases:
                r = post(body)
                assert r.status_code == 400, body
                assert r.json()["errors"][0]["message"] == message

    def test_concurrent_reservations_for_the_last_unit(self, world: World) -> None:
        """Each fits alone, not together: exactly one wins (real concurrent HTTP)."""
        assert schedule(world, [nine_to_five(1)]).status_code == 200
        headers = {"x-amz-access-token": world.token}

        def attempt(minute: int) -> int:
            return httpx.post(
                f"{world.server.url}/service/v1/reservation",
                params=MP,
                headers=headers,
                json={
                    "resourceId": world.store_id,
                    "reservation": {
                        "type": "BREAK",
                        "availability": {
                            "startTime": f"{DAY}T15:{minute:02d}:00Z",
                            "endTime": f"{DAY}T16:{minute:02d}:00Z",
                        },
                    },
                },
                timeout=30,
            ).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            codes = list(pool.map(attempt, [0, 5, 10, 15, 20, 25]))
        assert sorted(codes) == [200] + [400] * 5


def _dt(text: str) -> Any:
    from sp_services.domain.times import parse_iso

    parsed = parse_iso(text)
    assert parsed is not None
    return parsed[0]


class TestBoundedWork:
    def test_far_recurrences_stay_cheap(self, world: World) -> None:
        """A recurrence to the year 9999 is a valid schedule and must not make the request crawl."""
        import time

        record = {
            "startTime": f"{DAY}T09:00:00-05:00",
            "endTime": f"{DAY}T17:00:00-05:00",
            "recurrence": {"endTime": "9999-12-30T00:00:00Z", "daysOfWeek": ["MONDAY"]},
        }
        started = time.monotonic()
        r = schedule(world, [record, {**record, "capacity": 2}])
        assert r.status_code == 200
        assert len(r.json()["payload"]) == 1
        assert time.monotonic() - started < 30  # a bound on work, not a performance target

    def test_reservation_reach_is_limited(self, world: World) -> None:
        assert schedule(world, [nine_to_five(1)]).status_code == 200
        with world.client() as c:
            r = c.post(
                "/service/v1/reservation",
                params=MP,
                json={
                    "resourceId": world.store_id,
                    "reservation": {
                        "type": "BREAK",
                        "availability": {
                            "startTime": f"{DAY}T15:00:00Z",
                            "endTime": f"{DAY}T15:30:00Z",
                            "recurrence": {"endTime": "2032-03-04T00:00:00Z"},
                        },
                    },
                },
            )
        assert r.status_code == 400
        assert r.json()["errors"][0]["message"] == "Missing or invalid request parameters: [reservation]"


class TestFarDates:
    """Instants capacity work cannot step around (years 1 and 9999) are the operation's own 400s."""

    def test_reports(self, world: World) -> None:
        body = {"startDateTime": "0001-01-01T00:00:00Z", "endDateTime": "0001-01-02T00:00:00Z"}
        r = rng(world, body)
        assert r.status_code == 400
        assert r.json()["errors"][0]["message"] == "This is invalid input"
        assert r.json()["errors"][0]["details"] == (
            "Received the following errors: [startDateTime is not a valid ISO date/time object]"
        )
        r = fixed(world, {"startDateTime": f"{DAY}T00:00:00Z", "endDateTime": "9999-12-31T23:59:59Z"})
        assert r.json()["errors"][0]["details"] == (
            "Received the following errors: [endDateTime is not a valid ISO date/time object]"
        )

    def test_reservations_and_schedules(self, world: World) -> None:
        r = reserve(world, "9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z")
        assert r.status_code == 400
        assert r.json()["errors"][0]["message"] == (
            "Missing or invalid request parameters: [reservation.availability.startTime, "
            "reservation.availability.endTime]"
        )
        far = {"startTime": "0001-01-01T00:00:00Z", "endTime": "0001-01-02T00:00:00Z", "capacity": 1}
        r = schedule(world, [{**far, "recurrence": {"endTime": "0001-02-01T00:00:00Z"}}])
        assert r.status_code == 400
        assert "schedules[0].startTime" in r.json()["errors"][0]["message"]
        # A recurrence may still run to the end of the calendar.
        until_the_end = {**nine_to_five(), "recurrence": {"endTime": "9999-12-30T00:00:00Z"}}
        assert schedule(world, [until_the_end]).status_code == 200
