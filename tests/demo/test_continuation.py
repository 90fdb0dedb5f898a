"""Continuing a simulated history (issue #13): a second ``simulate`` stopped by the first in the
middle of a working day takes up every open job where it stood. Visits under way are drawn again
given what their record shows (``Visits.take_up_started``), so none is left half-done: one with an
arrival estimate sent is worked or settled as a buyer's no-show, never left as a technician's; work
recorded is completed; and nothing of the second run is dated before the instant it took up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sp_services.blobs import LocalBlobStore
from sp_services.demo import load_demo
from sp_services.demo.branches import STORE_PREFIX
from sp_services.demo.continuation import branch_jobs
from sp_services.demo.simulation import Plan, Simulation
from sp_services.demo.tally import Summary
from sp_services.domain.enums import AppointmentStatus, JobStatus
from sp_services.domain.jobs import Job, JobEvent
from sp_services.domain.marketplaces import US
from sp_services.domain.reason_codes import BUYER_NO_SHOW_CODES
from sp_services.persistence.db import Database
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services.documents import DocumentStore
from tests.support import OPERATOR_KEY, database_url, migrated

# A Wednesday, late morning to early afternoon in the branches (Portland to Atlanta): visits
# are under way, some recorded and not yet completed, when the first run stops.
STOP = datetime(2026, 3, 18, 18, 30, tzinfo=UTC)
LATER = STOP + timedelta(days=3)
PLAN = Plan(days=8, stores=6, seed=11)


@dataclass
class Snapshot:
    jobs: dict[str, Job]
    events: dict[str, list[JobEvent]]


@dataclass
class Continued:
    first: Snapshot  # when the first run stopped
    second: Summary
    last: Snapshot  # when the second did


def _snapshot(db: Database, seller_id: str, at: datetime) -> Snapshot:
    with db.transaction(write=False) as s:
        stores = CatalogRepository(s).stores_of(seller_id, US)
        branch_ids = [st.store_id for st in stores if st.store_id.startswith(STORE_PREFIX)]
        jobs = {j.service_job_id: j for j in branch_jobs(s, branch_ids, as_of=at)}
        repo = JobRepository(s)
        return Snapshot(jobs, {job_id: repo.events_of(job_id) for job_id in jobs})


@pytest.fixture(scope="module")
def continued(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Continued]:
    tmp: Path = tmp_path_factory.mktemp("continuation")
    db = migrated(database_url(backend, tmp))
    seller_id = load_demo(db, operator_key=OPERATOR_KEY, now=STOP - timedelta(days=PLAN.days))["seller_id"]
    documents = DocumentStore(secret=b"test-secret", blobs=LocalBlobStore(tmp / "blobs"))
    Simulation(db, PLAN, document_store=documents, public_url="http://sim.test").run(now=STOP)
    first = _snapshot(db, seller_id, STOP)
    second = Simulation(db, PLAN, document_store=documents, public_url="http://sim.test").run(now=LATER)
    yield Continued(first, second, _snapshot(db, seller_id, LATER))
    db.dispose()


def test_the_second_run_takes_up_where_the_first_stopped(continued: Continued) -> None:
    assert continued.second.start == STOP
    assert continued.second.tally.left_as_found == 0
    first, last = continued.first, continued.last
    assert set(first.jobs) <= set(last.jobs)
    for job_id, events in first.events.items():
        assert last.events[job_id][: len(events)] == events
        assert all(e.at >= STOP for e in last.events[job_id][len(events) :]), job_id


def test_visits_under_way_are_played_out(continued: Continued) -> None:
    first, last = continued.first, continued.last
    under_way = [
        (job_id, a)
        for job_id, job in first.jobs.items()
        for a in job.appointments
        if a.status is AppointmentStatus.ACTIVE
        and a.start_time <= STOP
        and (a.fulfillment is None or a.fulfillment.start is None)
    ]
    with_estimate = {a.appointment_id for _, a in under_way if a.fulfillment and a.fulfillment.eta_start}
    assert len(with_estimate) >= 3, under_way  # the stop caught visits under way
    for job_id, before in under_way:
        job = last.jobs[job_id]
        (a,) = (a for a in job.appointments if a.appointment_id == before.appointment_id)
        worked = a.fulfillment is not None and a.fulfillment.start is not None
        buyer_absent = any(e.reason_code in BUYER_NO_SHOW_CODES for e in last.events[job_id])
        if a.appointment_id in with_estimate:
            assert worked or buyer_absent, (job_id, a)  # a technician who sent an estimate came
        if worked:
            assert a.status is AppointmentStatus.COMPLETED and job.status is JobStatus.COMPLETED


def test_recorded_work_is_completed(continued: Continued) -> None:
    recorded = [
        job_id
        for job_id, job in continued.first.jobs.items()
        if any(
            a.status is AppointmentStatus.ACTIVE and a.fulfillment is not None and a.fulfillment.end is not None
            for a in job.appointments
        )
    ]
    assert recorded
    assert all(continued.last.jobs[j].status is JobStatus.COMPLETED for j in recorded)


def test_jobs_waiting_are_booked_by_their_buyers(continued: Continued) -> None:
    """A job waiting when the first run stopped is booked later by its buyer (or never, a buyer who
    never books): the second run books some, and none of them before the instant it took up."""
    waiting = [j for j in continued.first.jobs.values() if j.status is JobStatus.PENDING_SCHEDULE]
    booked = [
        continued.last.jobs[j.service_job_id] for j in waiting if continued.last.jobs[j.service_job_id].appointments
    ]
    assert booked
    assert all(a.start_time > STOP for job in booked for a in job.appointments)
