"""A live ``sp-services serve`` process on a fresh demo database, for the schema-conformance tests.

The server runs as a user runs it: ``sp-services db upgrade``, ``sp-services demo --json`` for the
credentials and ids, then ``sp-services serve`` in its own process on a free port, with rate limits
off (schemathesis sends far more than a usage plan allows) and a day-long access-token lifetime
(``make contract`` can outlast the default hour). Its output goes to ``server.log`` in the
fixture's temporary directory, whose path a failing test prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from sp_services.persistence import tables as t
from tests.support import free_port

# (operationId, status) of every response the contract tests got; `make contract` prints the tally.
STATUSES: Counter[tuple[str, int]] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATUSES or "SP_SERVICES_CONTRACT_EXAMPLES" not in os.environ:
        return
    terminalreporter.section("contract: responses by operation and status")
    for op in sorted({op for op, _ in STATUSES}):
        counts = ", ".join(f"{status}: {n}" for (o, status), n in sorted(STATUSES.items()) if o == op)
        terminalreporter.write_line(f"{op:50} {counts}")


@dataclass(frozen=True)
class LiveServer:
    url: str
    token: str
    demo: dict[str, Any]
    # (serviceJobId, appointmentId) of every appointment of the demo seller's jobs.
    appointments: list[tuple[str, str]]
    reservation_ids: list[str]
    log: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"x-amz-access-token": self.token}


def _cli(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "sp_services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _token(url: str, demo: dict[str, Any], deadline: float, process: subprocess.Popen[bytes]) -> str:
    while True:
        try:
            response = httpx.post(
                f"{url}/auth/o2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": demo["refresh_token"],
                    "client_id": demo["client_id"],
                    "client_secret": demo["client_secret"],
                },
                timeout=5,
            )
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("sp-services serve did not start") from None
            time.sleep(0.2)
            continue
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def _appointments(client: httpx.Client, job_ids: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for job_id in job_ids:
        response = client.get(f"/service/v1/serviceJobs/{job_id}")
        assert response.status_code == 200, response.text
        for appointment in response.json()["payload"].get("appointments", []):
            pairs.append((job_id, appointment["appointmentId"]))
    return pairs


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("contract")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SP_SERVICES_DATA_DIR": str(tmp),
        "SP_SERVICES_DATABASE_URL": f"sqlite:///{tmp / 'contract.db'}",
        "SP_SERVICES_PUBLIC_URL": url,
        "SP_SERVICES_RATE_LIMIT": "off",
        "SP_SERVICES_ACCESS_TOKEN_TTL_SECONDS": "86400",
    }
    _cli("db", "upgrade", env=env)
    demo: dict[str, Any] = json.loads(_cli("demo", "--json", env=env))
    engine = create_engine(env["SP_SERVICES_DATABASE_URL"])
    with engine.connect() as conn:
        reservation_ids = sorted(
            conn.scalars(select(t.Reservation.reservation_id).where(t.Reservation.seller_id == demo["seller_id"]))
        )
    engine.dispose()

    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sp_services.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        token = _token(url, demo, time.monotonic() + 30, process)
        with httpx.Client(base_url=url, headers={"x-amz-access-token": token}, timeout=30) as client:
            job_ids = [job_id for ids in demo["job_ids"].values() for job_id in ids]
            appointments = _appointments(client, job_ids)
        yield LiveServer(url, token, demo, appointments, reservation_ids, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
