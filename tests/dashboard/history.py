"""A small history for the analytics pages, made through the services (as tests/api/test_analytics.py
makes its own): jobs of 99.50 USD in the world's store, served on time, late, or cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sp_services.domain.jobs import Fulfillment
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services import jobs as job_service
from tests.support import World, seed_booking

M = timedelta(minutes=1)


@dataclass(frozen=True)
class History:
    first: date  # the store-local days the history falls in
    last: date


def _visit(world: World, *, start: datetime, technician: str, late: timedelta | None) -> str:
    """A job created a day before ``start`` and booked then (one technician); served ``late`` after
    its start for its hour and completed, or (``late`` None) cancelled S1 half an hour in."""
    (job_id,) = world.job(created_at=start - timedelta(days=1))
    with world.server.db.transaction() as s:
        job = JobRepository(s).get_job(job_id)
        assert job is not None
        booked = seed_booking(s, job, start, (technician,), at=start - timedelta(days=1))
        if late is None:
            job_service.cancel_job(s, seller_id=world.seller_id, job_id=job_id, reason_code="S1", now=start + 30 * M)
            return job_id
        fulfillment = Fulfillment(start=start + late, end=start + late + 60 * M)
        JobRepository(s).set_fulfillment(booked.appointments[0].appointment_id, fulfillment, now=start)
        job_service.complete_job(s, seller_id=world.seller_id, job_id=job_id, now=start + 3 * 60 * M)
    return job_id


def make_history(world: World) -> History:
    """Technician 0: on time (day 0) and 20 minutes late (day 1), both completed; technician 1: a
    visit on day 2 never served, cancelled. Day 0 is ten days ago, 15:00 UTC (New York morning)."""
    day0 = (world.server.clock() - timedelta(days=10)).replace(hour=15, minute=0, second=0, microsecond=0)
    t0, t1 = world.technician_ids
    _visit(world, start=day0, technician=t0, late=0 * M)
    _visit(world, start=day0 + timedelta(days=1), technician=t0, late=20 * M)
    _visit(world, start=day0 + timedelta(days=2), technician=t1, late=None)
    return History(day0.date(), (day0 + timedelta(days=2)).date())
