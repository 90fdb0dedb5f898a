"""Usage plans: token buckets per (seller, app, operation), in-process and shared through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from sp_services.api.ratelimit import MemoryLimiter, RedisLimiter
from tests.support import Server, make_world, start_server

QUOTA = {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}


@pytest.fixture
def limited(server: Server, tmp_path: Path) -> Iterator[Server]:
    """A second server on the same database with the model's usage plans at scale 1."""
    srv = start_server(server.db, tmp_path, rate_limit="on", rate_limit_scale=1.0)
    yield srv
    srv.stop()


def test_burst_then_429_per_operation_and_seller(limited: Server) -> None:
    world, other = make_world(limited), make_world(limited)
    (job_id,) = world.job()
    with world.client() as c:
        # completeServiceJobByServiceJobId: rate 5, burst 20 (the job is PENDING, so each is a 422).
        statuses = [c.put(f"/service/v1/serviceJobs/{job_id}/completions").status_code for _ in range(22)]
        assert statuses[:20] == [422] * 20
        assert 429 in statuses[20:]
        r = c.put(f"/service/v1/serviceJobs/{job_id}/completions")
        assert r.status_code == 429
        assert r.json() == {"errors": [QUOTA]}
        assert "x-amzn-ratelimit-limit" not in r.headers
        # Another operation has its own bucket.
        ok = c.get(f"/service/v1/serviceJobs/{job_id}")
        assert ok.status_code == 200
        assert ok.headers["x-amzn-ratelimit-limit"] == "20.0"
    # Another seller has its own bucket.
    (their_job,) = other.job()
    with other.client() as c:
        assert c.put(f"/service/v1/serviceJobs/{their_job}/completions").status_code == 422


def test_memory_bucket_refills() -> None:
    limiter = MemoryLimiter()

    def take(key: str, rate: float, burst: int) -> bool:
        return asyncio.run(limiter.acquire(key, rate, burst))

    assert all(take("k", 1000.0, 2) for _ in range(2))
    import time

    time.sleep(0.01)
    assert take("k", 1000.0, 2)
    assert not all(take("slow", 0.001, 1) for _ in range(2))


REDIS_URL = os.environ.get("SP_SERVICES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis at SP_SERVICES_TEST_REDIS_URL")
def test_redis_buckets_are_shared_between_workers(server: Server, tmp_path: Path) -> None:
    """Two servers (standing in for two workers or hosts) draw from one bucket through Redis."""
    prefix = f"test-{uuid.uuid4().hex}:"

    async def draw() -> list[bool]:
        a = RedisLimiter(REDIS_URL, prefix=prefix)
        b = RedisLimiter(REDIS_URL, prefix=prefix)
        taken = [await (a if i % 2 == 0 else b).acquire("seller:app:op", 0.001, 4) for i in range(6)]
        await a.aclose()
        await b.aclose()
        return taken

    taken = asyncio.run(draw())
    assert taken[:4] == [True] * 4
    assert taken[4:] == [False, False]

    # Scale 0.01: burst 1 and a refill of one token per 20 s, so timing cannot blur the count.
    first = start_server(server.db, tmp_path / "a", rate_limit="on", rate_limit_scale=0.01, redis_url=REDIS_URL)
    second = start_server(server.db, tmp_path / "b", rate_limit="on", rate_limit_scale=0.01, redis_url=REDIS_URL)
    try:
        world = make_world(first)
        (job_id,) = world.job()
        path = f"/service/v1/serviceJobs/{job_id}/completions"
        headers = {"x-amz-access-token": world.token}
        codes = [httpx.put(f"{(first if i % 2 else second).url}{path}", headers=headers).status_code for i in range(6)]
        # One token for both servers together; in-process buckets would have let each pass once.
        assert codes == [422] + [429] * 5
    finally:
        first.stop()
        second.stop()
