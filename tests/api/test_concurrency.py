"""Racing writers on one job: exactly one wins, the other gets the state-machine answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from sp_services.domain.enums import JobStatus
from tests.support import World


def test_complete_and_cancel_race(world: World) -> None:
    jobs = [world.job(JobStatus.NOT_SERVICED, fulfilled=True)[0] for _ in range(8)]
    headers = {"x-amz-access-token": world.token}
    base = world.server.url

    def complete(job_id: str) -> int:
        return httpx.put(f"{base}/service/v1/serviceJobs/{job_id}/completions", headers=headers).status_code

    def cancel(job_id: str) -> int:
        return httpx.put(
            f"{base}/service/v1/serviceJobs/{job_id}/cancellations",
            params={"cancellationReasonCode": "S1"},
            headers=headers,
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [(j, pool.submit(complete, j), pool.submit(cancel, j), pool.submit(complete, j)) for j in jobs]
        results = [(j, [f.result() for f in fs]) for j, *fs in futures]
    with world.client() as c:
        for job_id, codes in results:
            assert sorted(codes) == [200, 422, 422], codes
            job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
            expected = "COMPLETED" if codes[0] == 200 or codes[2] == 200 else "CANCELLED"
            assert job["serviceJobStatus"] == expected
            assert [a["appointmentStatus"] for a in job["appointments"]] == [expected]
