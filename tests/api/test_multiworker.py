"""No overbooking with several server processes: real concurrent HTTP against `serve --workers 2`."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support import Server, make_world, start_process_server

US = "ATVPDKIKX0DER"
DAY = "2030-03-04"


@pytest.fixture
def workers(server: Server, tmp_path: Path) -> Iterator[Server]:
    srv = start_process_server(server.db, tmp_path, workers=2)
    yield srv
    srv.stop()


def test_last_unit_goes_to_exactly_one_of_many_concurrent_reservations(workers: Server) -> None:
    world = make_world(workers)
    headers = {"x-amz-access-token": world.token}
    with httpx.Client(base_url=workers.url, headers=headers, timeout=60) as c:
        r = c.put(
            f"/service/v1/serviceResources/{world.store_id}/schedules",
            params={"marketplaceIds": US},
            json={"schedules": [{"startTime": f"{DAY}T14:00:00Z", "endTime": f"{DAY}T22:00:00Z", "capacity": 3}]},
        )
        assert r.status_code == 200, r.text

    def attempt(minute: int) -> int:
        with httpx.Client(base_url=workers.url, headers=headers, timeout=60) as c:
            return c.post(
                "/service/v1/reservation",
                params={"marketplaceIds": US},
                json={
                    "resourceId": world.store_id,
                    "reservation": {
                        "type": "TRAINING",
                        "availability": {
                            "startTime": f"{DAY}T15:{minute:02d}:00Z",
                            "endTime": f"{DAY}T16:{minute:02d}:00Z",
                        },
                    },
                },
            ).status_code

    # Twelve requests, each fitting alone, competing for capacity 3 over overlapping spans.
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(attempt, range(0, 60, 5)))
    assert sorted(codes) == [200] * 3 + [400] * 9
    with httpx.Client(base_url=workers.url, headers=headers, timeout=60) as c:
        report = c.post(
            f"/service/v1/serviceResources/{world.store_id}/capacity/range",
            params={"marketplaceIds": US},
            json={
                "capacityTypes": ["AVAILABLE_CAPACITY"],
                "startDateTime": f"{DAY}T14:00:00Z",
                "endDateTime": f"{DAY}T22:00:00Z",
            },
        ).json()
    assert min(s["capacity"] for s in report["capacities"][0]["slots"]) == 0  # booked out, never below


def test_concurrent_bookings_and_reschedules_never_overbook(workers: Server) -> None:
    """Sixteen requests race for one slot of capacity 2: eight new bookings and eight reschedules
    of appointments held elsewhere. Exactly two win; every loser keeps what it had."""
    world = make_world(workers)
    headers = {"x-amz-access-token": world.token}
    day = (datetime.now(UTC) + timedelta(days=8)).date()
    while day.weekday() != 0:
        day += timedelta(days=1)
    new_york = ZoneInfo("America/New_York")

    def at(hour: int) -> str:
        return datetime.combine(day, time(hour), tzinfo=new_york).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    with httpx.Client(base_url=workers.url, headers=headers, timeout=60) as c:
        r = c.put(
            f"/service/v1/serviceResources/{world.store_id}/schedules",
            params={"marketplaceIds": US},
            json={
                "schedules": [
                    {"startTime": at(8), "endTime": at(10), "capacity": 8},
                    {"startTime": at(10), "endTime": at(11), "capacity": 2},
                ]
            },
        )
        assert r.status_code == 200, r.text
        fresh = [world.job()[0] for _ in range(8)]
        held = []
        for _ in range(8):
            (job_id,) = world.job()
            r = c.post(f"/service/v1/serviceJobs/{job_id}/appointments", json={"appointmentTime": {"startTime": at(8)}})
            assert r.status_code == 200, r.text
            held.append((job_id, r.json()["appointmentId"]))

    def book(job_id: str) -> int:
        with httpx.Client(base_url=workers.url, headers=headers, timeout=60) as c:
            body = {"appointmentTime": {"startTime": at(10)}}
            return c.post(f"/service/v1/serviceJobs/{job_id}/appointments", json=body).status_code

    def move(job: tuple[str, str]) -> int:
        with httpx.Client(base_url=workers.url, headers=headers, timeout=60) as c:
            body = {"appointmentTime": {"startTime": at(10)}, "rescheduleReasonCode": "RS4"}
            return c.post(f"/service/v1/serviceJobs/{job[0]}/appointments/{job[1]}", json=body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        booked = [pool.submit(book, j) for j in fresh]
        moved = [pool.submit(move, j) for j in held]
        codes = [f.result() for f in booked + moved]
    assert sorted(codes) == [200] * 2 + [422] * 14, codes

    with httpx.Client(base_url=workers.url, headers=headers, timeout=60) as c:
        starts = []
        for job_id in fresh + [j for j, _ in held]:
            job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
            active = [a for a in job.get("appointments", []) if a["appointmentStatus"] == "ACTIVE"]
            assert len(active) == (0 if job["serviceJobStatus"] == "PENDING_SCHEDULE" else 1)
            starts += [a["appointmentTime"]["startTime"][:16] for a in active]
        assert starts.count(at(10)[:16]) == 2
        assert starts.count(at(8)[:16]) == 8 - codes[8:].count(200)
        slots = c.get(
            "/service/v1/appointmentSlots",
            params={
                "asin": world.asin,
                "storeId": world.store_id,
                "marketplaceIds": US,
                "startTime": at(10),
                "endTime": at(11),
            },
        ).json()["payload"]["appointmentSlots"]
        assert [s["capacity"] for s in slots] == [0]
