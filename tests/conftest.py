"""Fixtures: every API test runs against SQLite, and PostgreSQL when SP_SERVICES_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support import Server, World, database_url, make_world, migrated, start_server

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("SP_SERVICES_TEST_POSTGRES_URL") else [])


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp(f"server-{backend}")
    db = migrated(database_url(backend, tmp))
    # Usage plans are on but scaled out of the way; the rate-limit tests start their own server.
    srv = start_server(db, tmp, rate_limit="on", rate_limit_scale=1000.0)
    yield srv
    srv.stop()
    db.dispose()


@pytest.fixture(autouse=True)
def _reset_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "server" in request.fixturenames:
        request.getfixturevalue("server").clock.offset = timedelta()


@pytest.fixture
def world(server: Server) -> World:
    return make_world(server)


@pytest.fixture
def other_world(server: Server) -> World:
    return make_world(server)
