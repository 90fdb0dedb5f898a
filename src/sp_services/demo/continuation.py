"""Taking up an earlier simulation's open jobs, so that history continues where it stopped: a job
still waiting is booked later, or never (``Lives.take_up_pending``); a coming appointment's fate is
drawn given that it came this far unchanged (``behaviour.fate_after``); a visit under way, or a
no-show not yet answered, is drawn again given what its record shows (``Visits.take_up_started``);
a visit whose work is recorded is completed. What an earlier run drew is not stored, so each is
drawn again, conditioned on what the database shows, and the rates of a history made in several
runs are those of one made in one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from sp_services.domain.enums import JobEventKind, JobStatus
from sp_services.domain.job_query import JobQuery
from sp_services.domain.jobs import Job
from sp_services.domain.marketplaces import US
from sp_services.persistence.repositories.job_listing import JobListing
from sp_services.persistence.repositories.jobs import JobRepository

from .behaviour import Fate
from .branches import Branch
from .fixtures import MAIN
from .lives import Desk, Lives, SimJob, Visit
from .visits import Visits

PAGE = 500
PENDING_SCHEDULE, NOT_SERVICED = JobStatus.PENDING_SCHEDULE, JobStatus.NOT_SERVICED


def branch_jobs(
    session: Session, store_ids: Sequence[str], *, statuses: Sequence[JobStatus] = (), as_of: datetime
) -> Iterator[Job]:
    """The demo seller's jobs in these stores (of these statuses; none given: all), oldest first."""
    query = JobQuery(
        marketplace_id=US,
        store_ids=tuple(store_ids),
        statuses=tuple(statuses),
        created_after=datetime(2000, 1, 1, tzinfo=UTC),
        page_size=PAGE,
    )
    listing = JobListing(session)
    key = None
    while True:
        listed, key, _ = listing.page(MAIN.seller_id, query, key, backwards=False, as_of=as_of)
        yield from (item.job for item in listed if item.job is not None)
        if key is None:
            return


def take_up(desk: Desk, lives: Lives, visits: Visits, branches: Sequence[Branch], *, at: datetime) -> None:
    """Follow every open job of ``branches`` again from ``at``."""
    by_store = {b.store.store_id: b for b in branches}
    offerings = {o.asin: o for _, o in desk.offerings}
    open_jobs = branch_jobs(
        desk.db, [b.store.store_id for b in branches], statuses=(PENDING_SCHEDULE, NOT_SERVICED), as_of=at
    )
    repo = JobRepository(desk.db)
    for job in list(open_jobs):
        offering = offerings.get(job.asin)
        if offering is None:
            continue
        sim = SimJob(job.service_job_id, by_store[job.store_id], offering)
        active = job.active_appointment()
        if active is None:
            lives.take_up_pending(sim, ordered=job.created_at, at=at)
            continue
        visit = Visit(sim, active.appointment_id, active.start_time, Fate.SERVED)
        visit.technician_ids = tuple(t.technician_id for t in active.technicians)
        events = [e for e in repo.events_of(job.service_job_id) if e.appointment_id == active.appointment_id]
        done = active.fulfillment
        if active.start_time > at:
            booked = [e.at for e in events if e.kind in (JobEventKind.BOOKED, JobEventKind.RESCHEDULED)]
            lives.take_up(visit, booked_at=min(booked, default=at), now=at)
        elif done is None or done.start is None:
            visits.take_up_started(visit, eta_sent=done is not None and done.eta_start is not None, at=at)
        elif done.end is not None:
            recorded = [e.at for e in events if e.kind is JobEventKind.FULFILLMENT_RECORDED]
            visits.take_up_recorded(visit, recorded_at=max(recorded, default=at), at=at)
        # A start recorded without an end is not something the simulation makes: left as it is.
