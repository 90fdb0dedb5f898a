"""Liveness and readiness (issue #12): /healthz touches nothing; /readyz asks the database (and
Redis when configured), answers 503 with the SP-API error body within 2 s when one does not
answer, and recovers when it does. Neither needs a token or counts against a rate limit."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sp_services.persistence.db import Database, Timeouts
from tests.proxy import FreezableProxy
from tests.support import Server, migrated, postgres_database, start_server

REDIS_URL = os.environ.get("SP_SERVICES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NOT_READY = {"code": "ServiceUnavailable", "message": "Temporary overloading or maintenance of the server."}


def test_healthz_answers_without_a_token_and_without_a_rate_limit(server: Server, tmp_path: Path) -> None:
    strict = start_server(server.db, tmp_path, rate_limit="on", rate_limit_scale=0.001)
    try:
        answers = [httpx.get(f"{strict.url}/healthz") for _ in range(30)]
    finally:
        strict.stop()
    assert {(r.status_code, r.content) for r in answers} == {(200, b'{"status":"ok"}')}
    assert all(r.headers["content-type"] == "application/json" for r in answers)
    assert all("x-amzn-requestid" in r.headers and "x-amzn-ratelimit-limit" not in r.headers for r in answers)


def test_readyz_checks_the_database(server: Server) -> None:
    r = httpx.get(f"{server.url}/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "database": "ok", "redis": "not configured"}
    assert "x-amzn-ratelimit-limit" not in r.headers


def test_readyz_checks_redis_when_configured(server: Server, tmp_path: Path) -> None:
    with_redis = start_server(server.db, tmp_path / "up", redis_url=REDIS_URL)
    without = start_server(server.db, tmp_path / "down", redis_url="redis://127.0.0.1:1/0")
    try:
        up = httpx.get(f"{with_redis.url}/readyz")
        started = time.monotonic()
        down = httpx.get(f"{without.url}/readyz")
        took = time.monotonic() - started
    finally:
        with_redis.stop()
        without.stop()
    assert (up.status_code, up.json()) == (200, {"status": "ready", "database": "ok", "redis": "ok"})
    assert down.status_code == 503
    assert down.json() == {"errors": [{**NOT_READY, "details": "redis: ConnectionError"}]}
    assert took < 2.0


def test_readyz_without_a_database_is_503(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    server = start_server(db, tmp_path)
    try:
        r = httpx.get(f"{server.url}/readyz")
        alive = httpx.get(f"{server.url}/healthz")
    finally:
        server.stop()
        db.dispose()
    assert r.status_code == 503
    assert r.json() == {"errors": [{**NOT_READY, "details": "database: OperationalError"}]}
    assert alive.status_code == 200


@pytest.fixture
def stalling(tmp_path: Path) -> Iterator[tuple[Server, FreezableProxy]]:
    base = os.environ.get("SP_SERVICES_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("needs SP_SERVICES_TEST_POSTGRES_URL (an embedded SQLite cannot stall on a network)")
    url = postgres_database(base, f"sp_services_ready_{uuid.uuid4().hex[:8]}")
    migrated(url).dispose()
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    proxy = FreezableProxy(host, int(port or 5432))
    db = Database(url.replace(host_port, f"127.0.0.1:{proxy.port}"), timeouts=Timeouts(connect=1.0, pool=1.0))
    server = start_server(db, tmp_path)
    try:
        yield server, proxy
    finally:
        proxy.frozen.clear()
        server.stop()
        db.dispose()
        proxy.close()


def test_readyz_answers_503_within_2_s_while_the_database_stalls_and_recovers(
    stalling: tuple[Server, FreezableProxy],
) -> None:
    server, proxy = stalling
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    proxy.frozen.set()
    started = time.monotonic()
    stalled = httpx.get(f"{server.url}/readyz", timeout=30)
    took = time.monotonic() - started
    proxy.frozen.clear()
    deadline = time.monotonic() + 10
    while (back := httpx.get(f"{server.url}/readyz", timeout=30)).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stalled.status_code == 503
    assert stalled.json() == {"errors": [{**NOT_READY, "details": "database: Unavailable"}]}
    assert took < 2.0
    assert back.status_code == 200, back.text
