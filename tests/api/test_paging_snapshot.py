"""getServiceJobs sorted by JOB_STATUS holds its walk (issue #11): the pages after the first sort
by each job's status as of the first page, so a job whose status changes mid-walk is listed once,
where it was, and jobs created after the first page are not part of the walk."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from sp_services.domain.enums import JobStatus
from tests.support import OPERATOR_KEY, World

US = "ATVPDKIKX0DER"


def page(world: World, order: str, token: str | None = None) -> dict[str, Any]:
    params = {
        "marketplaceIds": US,
        "createdAfter": "2000-01-01T00:00:00Z",
        "sortField": "JOB_STATUS",
        "sortOrder": order,
        "pageSize": "2",
        **({"pageToken": token} if token else {}),
    }
    with world.client() as c:
        r = c.get("/service/v1/serviceJobs", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json()["payload"])


def hold(world: World, job_id: str) -> None:
    r = httpx.put(
        f"{world.server.url}/operator/v1/serviceJobs/{job_id}/status",
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        json={"action": "HOLD"},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("order", ["ASC", "DESC"])
def test_a_status_change_mid_walk_neither_skips_nor_repeats_a_job(world: World, order: str) -> None:
    base = world.server.clock() - timedelta(hours=1)
    cancelled = [j for i in range(2) for j in world.job(JobStatus.CANCELLED, created_at=base + timedelta(minutes=i))]
    pending = [j for i in range(4) for j in world.job(created_at=base + timedelta(minutes=10 + i))]
    expected = (cancelled + pending) if order == "ASC" else (pending[::-1] + cancelled[::-1])
    first = page(world, order)
    assert first["totalResultSize"] == 6
    seen = [j["serviceJobId"] for j in first["jobs"]]
    # Move a job not listed yet to HOLD (it now sorts between CANCELLED and PENDING_SCHEDULE), and
    # create a job: neither may disturb the walk.
    unlisted = next(j for j in expected if j not in seen)
    hold(world, unlisted)
    world.job()
    token = first.get("nextPageToken")
    statuses: dict[str, str] = {j["serviceJobId"]: j["serviceJobStatus"] for j in first["jobs"]}
    while token:
        payload = page(world, order, token)
        assert payload["totalResultSize"] == 6  # the walk counts the jobs that existed at its start
        seen += [j["serviceJobId"] for j in payload["jobs"]]
        statuses.update({j["serviceJobId"]: j["serviceJobStatus"] for j in payload["jobs"]})
        token = payload.get("nextPageToken")
    assert seen == expected
    assert statuses[unlisted] == "HOLD"  # listed where it was, showing what it is now


def test_a_walk_back_keeps_the_same_snapshot(world: World) -> None:
    base = world.server.clock() - timedelta(hours=1)
    jobs = [j for i in range(5) for j in world.job(created_at=base + timedelta(minutes=i))]
    first = page(world, "ASC")
    second = page(world, "ASC", first["nextPageToken"])
    hold(world, jobs[3])  # listed on page 2; HOLD sorts before PENDING_SCHEDULE now
    back = page(world, "ASC", second["previousPageToken"])
    assert [j["serviceJobId"] for j in back["jobs"]] == jobs[:2]
    assert "previousPageToken" not in back
