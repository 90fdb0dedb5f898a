"""A database that stalls or a lock held elsewhere (issue #11): requests answer 503 within a stated
bound, a booking waiting on a held lock gives up cleanly, nothing is half-written, and service
comes back when the database does. The token endpoint answers in LWA's own error shape."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from sp_services.persistence.db import Database, Timeouts
from tests.proxy import FreezableProxy
from tests.support import Server, World, make_world, migrated, postgres_database, start_server

LIMITS = Timeouts(connect=2.0, statement=2.0, lock=1.0, pool=1.0)
REQUEST_TIMEOUT = 1.5
BOUND = 3.0  # seconds: what a stalled request may take at most, with these settings
UNAVAILABLE = {
    "errors": [
        {"code": "ServiceUnavailable", "message": "Temporary overloading or maintenance of the server.", "details": ""}
    ]
}


@dataclass
class Faulty:
    server: Server
    world: World
    direct_url: str  # the database itself (the server may reach it through the proxy)
    proxy: FreezableProxy | None


def _served(url: str, direct_url: str, tmp: Path, proxy: FreezableProxy | None) -> Iterator[Faulty]:
    db = Database(url, timeouts=LIMITS)
    server = start_server(db, tmp, rate_limit="off", request_timeout=REQUEST_TIMEOUT)
    try:
        yield Faulty(server, make_world(server), direct_url, proxy)
    finally:
        if proxy is not None:
            proxy.frozen.clear()
        server.stop()
        db.dispose()
        if proxy is not None:
            proxy.close()


def _through_proxy(url: str, tmp: Path) -> Iterator[Faulty]:
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    proxy = FreezableProxy(host, int(port or 5432))
    yield from _served(url.replace(host_port, f"127.0.0.1:{proxy.port}"), url, tmp, proxy)


@pytest.fixture
def faulty(server: Server, tmp_path: Path) -> Iterator[Faulty]:
    """A second server on the suite's database with short timeouts (PostgreSQL: through a proxy)."""
    url = server.db.url
    if url.startswith("sqlite"):
        yield from _served(url, url, tmp_path, None)
    else:
        yield from _through_proxy(url, tmp_path)


@pytest.fixture
def stalling(tmp_path: Path) -> Iterator[Faulty]:
    """A server on a PostgreSQL database of its own, reached through a proxy that can freeze."""
    base = os.environ.get("SP_SERVICES_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("needs SP_SERVICES_TEST_POSTGRES_URL (an embedded SQLite cannot stall on a network)")
    url = postgres_database(base, f"sp_services_stall_{uuid.uuid4().hex[:8]}")
    migrated(url).dispose()
    yield from _through_proxy(url, tmp_path)


def _timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def _pending_job(f: Faulty) -> str:
    (job_id,) = f.world.job()
    return job_id


def test_a_held_store_lock_makes_a_capacity_change_give_up_cleanly(faulty: Faulty) -> None:
    w = faulty.world
    record = {"startTime": "2030-03-04T09:00:00-05:00", "endTime": "2030-03-04T17:00:00-05:00"}
    assert w.token  # minted before the lock is taken (the token endpoint writes too)
    engine = create_engine(faulty.direct_url)
    with engine.connect() as holder:
        if faulty.proxy is None:
            holder.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite: a writer holds the database
        else:
            holder.execute(text("SELECT 1 FROM stores WHERE store_id = :s FOR UPDATE"), {"s": w.store_id})
        with w.client() as c:
            response, took = _timed(
                lambda: c.put(
                    f"/service/v1/serviceResources/{w.store_id}/schedules",
                    params={"marketplaceIds": "ATVPDKIKX0DER"},
                    json={"schedules": [record]},
                )
            )
        holder.rollback()
    engine.dispose()
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert took < BOUND
    with w.client() as c:
        report = c.post(
            f"/service/v1/serviceResources/{w.store_id}/capacity/range",
            params={"marketplaceIds": "ATVPDKIKX0DER"},
            json={
                "capacityTypes": ["SCHEDULED_CAPACITY"],
                "startDateTime": "2030-03-04T14:00:00Z",
                "endDateTime": "2030-03-04T15:00:00Z",
            },
        )
        assert report.json()["capacities"][0]["slots"] == [
            {"startDateTime": "2030-03-04T14:00:00Z", "endDateTime": "2030-03-04T15:00:00Z", "capacity": 0}
        ]  # nothing was written
        again = c.put(
            f"/service/v1/serviceResources/{w.store_id}/schedules",
            params={"marketplaceIds": "ATVPDKIKX0DER"},
            json={"schedules": [record]},
        )
    assert again.status_code == 200, again.text


def test_a_stalled_database_answers_503_in_bounded_time_and_leaves_no_trace(stalling: Faulty) -> None:
    faulty = stalling
    assert faulty.proxy is not None
    w = faulty.world
    job_id = _pending_job(faulty)
    with w.client() as c:
        assert c.get(f"/service/v1/serviceJobs/{job_id}").status_code == 200  # pooled connections warm
        faulty.proxy.frozen.set()
        read, read_took = _timed(lambda: c.get(f"/service/v1/serviceJobs/{job_id}"))
        write, write_took = _timed(
            lambda: c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S3"})
        )
        token, token_took = _timed(
            lambda: httpx.post(
                f"{faulty.server.url}/auth/o2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": w.refresh_token,
                    "client_id": w.client_id,
                    "client_secret": w.client_secret,
                },
                timeout=30,
            )
        )
        faulty.proxy.frozen.clear()
        time.sleep(0.5)  # the abandoned work finishes (and rolls back) once the database answers
        after = c.get(f"/service/v1/serviceJobs/{job_id}")
    assert (read.status_code, read.json()) == (503, UNAVAILABLE)
    assert (write.status_code, write.json()) == (503, UNAVAILABLE)
    assert token.status_code == 503
    assert token.json() == {
        "error": "temporarily_unavailable",
        "error_description": "The authorization server is temporarily unavailable.",
    }
    assert max(read_took, write_took, token_took) < BOUND
    assert after.status_code == 200, after.text
    assert after.json()["payload"]["serviceJobStatus"] == "PENDING_SCHEDULE"  # the cancel left no trace


def test_analytics_have_a_budget_of_their_own(stalling: Faulty) -> None:
    """A stall longer than REQUEST_TIMEOUT: a job read gives up with 503, while an analytics request,
    whose aggregates may legitimately take longer, waits it out within ANALYTICS_TIMEOUT (30 s)."""
    faulty = stalling
    assert faulty.proxy is not None
    proxy = faulty.proxy
    w = faulty.world
    job_id = _pending_job(faulty)
    analytics = "/analytics/v1/technicians"
    params = {"marketplaceIds": "ATVPDKIKX0DER"}
    with w.client() as c:
        assert c.get(analytics, params=params).status_code == 200  # pooled connections warm
        assert c.get(f"/service/v1/serviceJobs/{job_id}").status_code == 200
        proxy.frozen.set()
        thaw = threading.Timer(REQUEST_TIMEOUT + 1.0, proxy.frozen.clear)
        thaw.start()
        try:
            report, report_took = _timed(lambda: c.get(analytics, params=params, timeout=30))
        finally:
            thaw.join()
        proxy.frozen.set()
        try:
            read = c.get(f"/service/v1/serviceJobs/{job_id}")
        finally:
            proxy.frozen.clear()
    assert report.status_code == 200, report.text
    assert report_took > REQUEST_TIMEOUT  # it did wait out the stall
    assert [row["technicianId"] for row in report.json()["payload"]["technicians"]] == sorted(w.technician_ids)
    assert (read.status_code, read.json()) == (503, UNAVAILABLE)
