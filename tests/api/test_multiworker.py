"""No overbooking with several server processes: real concurrent HTTP against `serve --workers 2`."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
