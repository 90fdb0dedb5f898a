"""getAppointmentSlots and getAppointmmentSlotsByJobId through HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from sp_services.domain.enums import JobStatus
from sp_services.domain.times import format_utc
from tests.support import World, travel

US = "ATVPDKIKX0DER"
DAY = "2030-03-04"  # Monday; store timezone America/New_York (UTC-5)
# The sandbox's refusal of another seller's object.
NOT_YOURS = {
    "errors": [
        {
            "code": "UnauthorizedAction",
            "message": "Not authorized to access this resource. Please check your input again.",
            "details": "",
        }
    ]
}


@pytest.fixture
def near_day(world: World) -> None:
    """Two days before DAY: its slots lie within the store's 14-day booking horizon."""
    travel(world.server, datetime.fromisoformat(f"{DAY}T12:00:00+00:00") - timedelta(days=2))


def slots(world: World, **params: str) -> httpx.Response:
    with world.client() as c:
        return c.get(
            "/service/v1/appointmentSlots",
            params={"asin": world.asin, "storeId": world.store_id, "marketplaceIds": US, **params},
        )


def publish(world: World, records: list[dict[str, Any]]) -> None:
    with world.client() as c:
        r = c.put(
            f"/service/v1/serviceResources/{world.store_id}/schedules",
            params={"marketplaceIds": US},
            json={"schedules": records},
        )
    assert r.status_code == 200, r.text


def test_real_time_slots_on_the_grid_with_capacity(world: World, near_day: None) -> None:
    publish(world, [{"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T12:30:00-05:00", "capacity": 2}])
    world.job(JobStatus.NOT_SERVICED, starts_at=_at(f"{DAY}T15:00:00Z"))
    r = slots(world, startTime=f"{DAY}T13:00:00Z", endTime=f"{DAY}T18:00:00Z")
    assert r.status_code == 200, r.text
    assert r.headers["x-amzn-ratelimit-limit"] == "20000.0"
    assert r.json() == {
        "payload": {
            "startTime": f"{DAY}T13:00:00Z",
            "endTime": f"{DAY}T18:00:00Z",
            "schedulingType": "REAL_TIME_SCHEDULING",
            "appointmentSlots": [
                {"startTime": f"{DAY}T14:00:00Z", "endTime": f"{DAY}T15:00:00Z", "capacity": 2},
                {"startTime": f"{DAY}T15:00:00Z", "endTime": f"{DAY}T16:00:00Z", "capacity": 1},
                {"startTime": f"{DAY}T16:00:00Z", "endTime": f"{DAY}T17:00:00Z", "capacity": 2},
                # 17:00-18:00Z would run past the 12:30 local close: not listed.
            ],
        }
    }


def test_zero_capacity_slots_are_listed(world: World, near_day: None) -> None:
    publish(world, [{"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T11:00:00-05:00", "capacity": 1}])
    world.job(JobStatus.NOT_SERVICED, starts_at=_at(f"{DAY}T14:00:00Z"))
    payload = slots(world, startTime=f"{DAY}T14:00:00Z", endTime=f"{DAY}T16:00:00Z").json()["payload"]
    assert [(s["startTime"][11:16], s["capacity"]) for s in payload["appointmentSlots"]] == [("14:00", 0), ("15:00", 1)]


def test_non_real_time_without_a_schedule(world: World, near_day: None) -> None:
    payload = slots(world, startTime=f"{DAY}T00:00:00Z", endTime=f"{DAY}T23:59:00Z").json()["payload"]
    assert payload["schedulingType"] == "NON_REAL_TIME_SCHEDULING"
    starts = [s["startTime"][11:16] for s in payload["appointmentSlots"]]
    # Working hours 08:00-18:00 New York = 13:00-23:00Z; a 60-minute job can start 13:00 … 22:00Z.
    assert starts == [f"{h}:00" for h in range(13, 23)]
    assert {s["capacity"] for s in payload["appointmentSlots"]} == {1}
    weekend = slots(world, startTime="2030-03-09T00:00:00Z", endTime="2030-03-10T00:00:00Z").json()["payload"]
    assert weekend["appointmentSlots"] == []


def test_default_window_is_now_to_horizon(world: World) -> None:
    now = world.server.clock()
    publish(
        world, [{"startTime": format_utc(now - timedelta(days=1)), "endTime": format_utc(now + timedelta(days=30))}]
    )
    payload = slots(world).json()["payload"]
    assert payload["schedulingType"] == "REAL_TIME_SCHEDULING"
    starts = [_at(s["startTime"]) for s in payload["appointmentSlots"]]
    assert starts[0] >= now
    assert starts[-1] < now + timedelta(days=14)
    assert len(starts) in (14 * 24 - 1, 14 * 24)


def test_past_slots_are_not_offered(world: World) -> None:
    now = world.server.clock()
    publish(world, [{"startTime": format_utc(now - timedelta(days=2)), "endTime": format_utc(now + timedelta(days=1))}])
    payload = slots(world, startTime=format_utc(now - timedelta(days=1)), endTime=format_utc(now + timedelta(hours=5)))
    starts = [_at(s["startTime"]) for s in payload.json()["payload"]["appointmentSlots"]]
    assert starts and all(s >= now for s in starts)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"endTime": "20-21-04-04T01:00:00Z"}, "Range End Time is not a valid ISO date/time object"),
        (
            {"startTime": "2030-04-04T05:00:00Z", "endTime": "2030-04-04T02:00:00Z"},
            "Range End Time should be after Range Start Time",
        ),
        ({"startTime": "2030-01-01T00:00:00Z"}, "Missing or invalid request parameters: [startTime, endTime]"),
        (
            {"startTime": "2030-01-01T00:00:00Z", "endTime": "2030-04-02T00:00:00Z"},
            "Range End Time is beyond the maximum range of 90 days",
        ),
        ({"asin": "nullValue"}, "Missing or invalid request parameters: [asin]"),
        ({"asin": "B000000000"}, "Missing or invalid request parameters: [asin]"),
    ],
)
def test_errors(world: World, params: dict[str, str], message: str) -> None:
    r = slots(world, **params)
    assert r.status_code == 400
    assert r.json()["errors"][0]["message"] == message


def test_foreign_store(world: World, other_world: World) -> None:
    with world.client() as c:
        r = c.get(
            "/service/v1/appointmentSlots",
            params={"asin": world.asin, "storeId": other_world.store_id, "marketplaceIds": US},
        )
    assert r.status_code == 403
    assert r.json() == NOT_YOURS


class TestByJob:
    def test_uses_the_jobs_store_and_offering(self, world: World, near_day: None) -> None:
        publish(world, [{"startTime": f"{DAY}T09:00:00-05:00", "endTime": f"{DAY}T11:00:00-05:00"}])
        (job_id,) = world.job()
        with world.client() as c:
            r = c.get(
                f"/service/v1/serviceJobs/{job_id}/appointmentSlots",
                params={"marketplaceIds": US, "startTime": f"{DAY}T00:00:00Z", "endTime": f"{DAY}T23:00:00Z"},
            )
        assert r.status_code == 200, r.text
        assert [s["startTime"] for s in r.json()["payload"]["appointmentSlots"]] == [
            f"{DAY}T14:00:00Z",
            f"{DAY}T15:00:00Z",
        ]

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"endTime": "20-21-04-04T01:00:00Z"}, "End Time is not a valid ISO date/time object"),
            (
                {"startTime": "2030-04-04T05:00:00Z", "endTime": "2030-04-04T02:00:00Z"},
                "End Time should be after Start Time",
            ),
        ],
    )
    def test_errors(self, world: World, params: dict[str, str], message: str) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            r = c.get(f"/service/v1/serviceJobs/{job_id}/appointmentSlots", params={"marketplaceIds": US, **params})
        assert r.status_code == 400
        assert r.json()["errors"][0]["message"] == message

    def test_unknown_foreign_and_closed_jobs(self, world: World, other_world: World) -> None:
        (foreign,) = other_world.job()
        (done,) = world.job(JobStatus.COMPLETED)
        with world.client() as c:

            def get(job_id: str) -> httpx.Response:
                return c.get(f"/service/v1/serviceJobs/{job_id}/appointmentSlots", params={"marketplaceIds": US})

            assert get("nope").json()["errors"][0]["message"] == "No job exist with jobId : nope"
            refused = get(foreign)
            assert refused.status_code == 403
            assert refused.json() == NOT_YOURS
            closed = get(done)
        assert closed.status_code == 422
        assert closed.json()["errors"][0]["message"] == (
            f"Operation not allowed on job with jobId : {done} and jobState : COMPLETED"
        )


def _at(text: str) -> Any:
    from sp_services.domain.times import parse_iso

    parsed = parse_iso(text)
    assert parsed is not None
    return parsed[0]
