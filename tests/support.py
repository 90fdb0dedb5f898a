"""Test support: a real server on a real port, databases, and a small world builder."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from sp_services.api.app import create_app
from sp_services.api.http_protocol import GatheringH11Protocol
from sp_services.domain.catalog import Offering, Store, Technician
from sp_services.domain.enums import AppointmentStatus, JobEventKind, JobStatus, ServiceLocationType, ServiceType
from sp_services.domain.ids import new_appointment_id
from sp_services.domain.jobs import Appointment, Fulfillment, Job, JobEvent, payment
from sp_services.domain.marketplaces import US
from sp_services.persistence.db import Database
from sp_services.persistence.migrate import upgrade
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services import jobs as job_service
from sp_services.services import operator as op
from sp_services.settings import Settings

OPERATOR_KEY = "test-operator-key"
_counter = itertools.count(1)


class Clock:
    """A clock tests can move: real time plus an offset."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def travel(server: Server, to: datetime) -> None:
    """Move the server's clock so that its now is ``to`` (conftest puts it back after the test).

    Mint the world's token after travelling: a token lives an hour of the server's time."""
    server.clock.offset = to - datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_database(base_url: str, name: str) -> str:
    """(Re)create database ``name`` on the server of ``base_url`` and return its URL."""
    admin = create_engine(base_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


def database_url(backend: str, tmp: Path) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'test-{worker}.db'}"
    base = os.environ["SP_SERVICES_TEST_POSTGRES_URL"]
    return postgres_database(base, f"sp_services_test_{worker}_{uuid.uuid4().hex[:6]}")


@dataclass
class Server:
    url: str
    db: Database
    clock: Clock
    settings: Settings
    _server: uvicorn.Server | None
    _thread: threading.Thread | None
    _process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=20)
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)


def start_process_server(db: Database, data_dir: Path, *, workers: int) -> Server:
    """``sp-services serve --workers N`` in its own processes, sharing ``db`` with the test."""
    port = free_port()
    env = {
        **os.environ,
        "SP_SERVICES_DATABASE_URL": db.url,
        "SP_SERVICES_DATA_DIR": str(data_dir),
        "SP_SERVICES_OPERATOR_KEY": OPERATOR_KEY,
        "SP_SERVICES_SECRET_KEY": "test-secret",
        "SP_SERVICES_RATE_LIMIT": "off",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sp_services.cli.main", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/service/v1/serviceJobs", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("server process did not start") from None
            time.sleep(0.2)
    settings = Settings(data_dir=data_dir, database_url=db.url, public_url=url, operator_key=OPERATOR_KEY)
    return Server(url, db, Clock(), settings, None, None, process)


def start_server(
    db: Database, data_dir: Path, configure: Callable[[FastAPI], None] | None = None, **overrides: Any
) -> Server:
    """Serve a fresh app over real HTTP on a free local port, in a thread."""
    port = free_port()
    settings = Settings(
        data_dir=data_dir,
        database_url=db.url,
        public_url=f"http://127.0.0.1:{port}",
        operator_key=OPERATOR_KEY,
        secret_key="test-secret",
        **overrides,
    )
    clock = Clock()
    app = create_app(settings, db=db, clock=clock)
    if configure is not None:
        configure(app)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        loop="uvloop",
        http=GatheringH11Protocol,  # as `sp-services serve` runs
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return Server(f"http://127.0.0.1:{port}", db, clock, settings, server, thread)


def migrated(url: str) -> Database:
    upgrade(url)
    return Database(url)


@dataclass
class World:
    """One seller with an app, a store, an offering and technicians; builds jobs on demand."""

    server: Server
    seller_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    store_id: str
    asin: str
    technician_ids: list[str]
    _token: str | None = None
    stores: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        if self._token is None:
            response = httpx.post(
                f"{self.server.url}/auth/o2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.refresh_token,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers={"x-amz-access-token": self.token}, timeout=30)

    def job(
        self,
        status: JobStatus = JobStatus.PENDING_SCHEDULE,
        *,
        asin: str | None = None,
        store_id: str | None = None,
        created_at: datetime | None = None,
        starts_at: datetime | None = None,
        product_order_ids: tuple[str, ...] = (),
        tracking_ids: tuple[str, ...] = (),
        order_jobs: int = 1,
        fulfilled: bool = False,
    ) -> list[str]:
        """Create an order with ``order_jobs`` jobs and drive them into ``status``; returns job ids.

        ``fulfilled``: record the booked appointment's fulfillment time (the appointment's own
        window), which completing a job requires; COMPLETED jobs always have it."""
        now = self.server.clock()
        created = created_at or now
        needs_booking = status in (JobStatus.NOT_SERVICED, JobStatus.COMPLETED)
        start = starts_at or (
            created + timedelta(hours=2) if status is JobStatus.COMPLETED else now + timedelta(days=2)
        ).replace(microsecond=0)
        with self.server.db.transaction() as s:
            jobs = op.create_order(
                s,
                now=created,
                order=op.NewOrder(
                    seller_id=self.seller_id,
                    marketplace_id=US,
                    store_id=store_id or self.store_id,
                    buyer={"buyerId": "B0001", "name": "Test Buyer"},
                    service_location={
                        "serviceLocationType": "IN_HOME",
                        "address": {"name": "Test Buyer", "addressLine1": "1 Main St"},
                    },
                    jobs=tuple(
                        op.NewJob(
                            asin=asin or self.asin,
                            created_at=created,
                            payments=(payment(Decimal("99.50"), "USD", "CREDIT_CARD"),),
                            product_order_ids=product_order_ids,
                            tracking_ids=tracking_ids,
                        )
                        for _ in range(order_jobs)
                    ),
                ),
            ).jobs
            if needs_booking or starts_at:
                technicians = tuple(self.technician_ids[:1]) if needs_booking else ()
                jobs = [seed_booking(s, job, start, technicians, at=created) for job in jobs]
            for job in jobs:
                if fulfilled or status is JobStatus.COMPLETED:
                    appointment = job.appointments[0]
                    JobRepository(s).set_fulfillment(
                        appointment.appointment_id,
                        Fulfillment(start=appointment.start_time, end=appointment.end_time),
                        now=created,
                    )
                if status is JobStatus.COMPLETED:
                    job_service.complete_job(
                        s, seller_id=self.seller_id, job_id=job.service_job_id, now=start + timedelta(hours=3)
                    )
                elif status is JobStatus.CANCELLED:
                    job_service.cancel_job(
                        s, seller_id=self.seller_id, job_id=job.service_job_id, reason_code="S3", now=created
                    )
                elif status in (JobStatus.HOLD, JobStatus.PAYMENT_DECLINED, JobStatus.NOT_FULFILLABLE):
                    job_service.set_marketplace_status(
                        s, job_id=job.service_job_id, action=f"mark_{status.value.lower()}", now=created
                    )
        return [j.service_job_id for j in jobs]


def seed_booking(session: Session, job: Job, start: datetime, technician_ids: tuple[str, ...], *, at: datetime) -> Job:
    """Test set-up only: give a PENDING_SCHEDULE job an ACTIVE appointment at ``start`` as it
    stands in the database, without the booking rules (tests need past and off-grid bookings);
    the product books only through services/booking.py."""
    repo = JobRepository(session)
    offering = CatalogRepository(session).get_offering(job.seller_id, job.marketplace_id, job.asin)
    assert offering is not None
    appointment = Appointment(
        appointment_id=new_appointment_id(job.service_job_id),
        service_job_id=job.service_job_id,
        status=AppointmentStatus.ACTIVE,
        start_time=start,
        duration_minutes=offering.duration_minutes,
    )
    repo.add_appointment(appointment, seller_id=job.seller_id, now=at)
    if technician_ids:
        repo.set_technicians(appointment.appointment_id, technician_ids, now=at)
    repo.set_job_status(
        job.service_job_id,
        JobEvent(JobEventKind.BOOKED, at, JobStatus.NOT_SERVICED, appointment.appointment_id),
    )
    booked = repo.get_job(job.service_job_id)
    assert booked is not None
    return booked


def make_world(
    server: Server,
    *,
    roles: tuple[str, ...] = ("ProfessionalServices",),
    service_type: ServiceType = ServiceType.DEFAULT,
) -> World:
    n = next(_counter)
    suffix = f"{os.getpid() % 10000:04d}{n:05d}{uuid.uuid4().hex[:4].upper()}"
    seller_id = f"AS{suffix}"
    store_id = f"store-{suffix.lower()}"
    asin = f"B{suffix[-9:]}".upper()[:10].ljust(10, "0")
    now = server.clock()
    with server.db.transaction() as s:
        op.create_seller(s, name=f"Seller {n}", marketplace_ids=[US], seller_id=seller_id, now=now)
        app = op.create_application(s, name="app", roles=list(roles), now=now)
        refresh = op.authorize(s, seller_id=seller_id, client_id=app.client_id, now=now)
        op.create_store(
            s,
            now=now,
            store=Store(
                store_id=store_id,
                seller_id=seller_id,
                marketplace_id=US,
                name="Store",
                timezone="America/New_York",
                service_location_types=(ServiceLocationType.IN_HOME,),
            ),
        )
        op.create_offering(
            s,
            now=now,
            offering=Offering(
                seller_id=seller_id,
                marketplace_id=US,
                asin=asin,
                title="Install",
                duration_minutes=60,
                required_skills=("INSTALL",),
                service_type=service_type,
            ),
        )
        techs = []
        for i in range(2):
            tech_id = f"T{suffix}{i}"
            op.create_technician(
                s,
                now=now,
                technician=Technician(
                    technician_id=tech_id,
                    seller_id=seller_id,
                    name=f"Tech {i}",
                    skills=("INSTALL",),
                    store_ids=(store_id,),
                ),
            )
            techs.append(tech_id)
    return World(server, seller_id, app.client_id, app.client_secret, refresh, store_id, asin, techs)


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def iter_pages(client: httpx.Client, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        response = client.get("/service/v1/serviceJobs", params={**params, **({"pageToken": token} if token else {})})
        assert response.status_code == 200, response.text
        payload = response.json()["payload"]
        yield payload
        token = payload.get("nextPageToken")
        if not token:
            return
