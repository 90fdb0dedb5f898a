"""The one booking step: every way an appointment is made goes through ``book`` (docs/design.md §4).

Booking is one transaction. The caller has locked the job (``load_job(for_update=True)``) and
checked its state; ``book`` then locks the job's store row (PostgreSQL row lock; SQLite write
transactions are serialised by BEGIN IMMEDIATE), reads the store's capacity with every ACTIVE
appointment counted, and writes the appointment. Every request that takes capacity from a store
(bookings, reservations, schedule changes) takes the same store lock, so no interleaving of
concurrent requests can book a slot past its capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sp_services.domain import appointments as rules
from sp_services.domain import ids, reason_codes
from sp_services.domain.capacity import to_minute
from sp_services.domain.catalog import Store
from sp_services.domain.enums import AppointmentStatus, JobEventKind, JobStatus
from sp_services.domain.jobs import Appointment, Job, JobEvent
from sp_services.domain.marketplaces import marketplace
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services.slots import slots_for


@dataclass(frozen=True)
class Booking:
    """What a booking asks for. A reschedule names the ACTIVE appointment it gives up and why."""

    start: datetime
    duration: int | None = None  # durationInMinutes, when sent
    replaces: Appointment | None = None
    reason_code: str | None = None


def book(session: Session, *, job: Job, booking: Booking, status: JobStatus, now: datetime) -> Appointment:
    """Book ``job`` (already locked, its state checked) and move it to ``status``.

    Checked in the documented order: time rules → (reschedule) reason code → duration → slot. A
    replaced appointment is cancelled before the slot check, so its own capacity is free for the
    new booking; if the new slot is not available the whole transaction rolls back."""
    job_id = job.service_job_id
    rules.check_booking_time(job_id, booking.start, now=now)
    if booking.replaces is not None:
        _check_reschedule_code(job, booking.reason_code)
    store = CatalogRepository(session).get_store(job.store_id, for_update=True)
    assert store is not None  # a job's store is a foreign key
    offering = CatalogRepository(session).get_offering(job.seller_id, job.marketplace_id, job.asin)
    if offering is None:  # the seller no longer offers the ASIN: no slot exists
        raise rules.booking_failure(job_id, rules.SLOT_NOT_AVAILABLE)
    minutes = offering.duration_minutes
    rules.check_duration(job_id, booking.duration, offering_minutes=minutes)
    repo = JobRepository(session)
    if booking.replaces is not None:
        repo.set_appointment_status(booking.replaces.appointment_id, AppointmentStatus.CANCELLED, now=now)
    _require_slot(session, job_id, store, booking.start, minutes, now)
    appointment = Appointment(
        appointment_id=ids.new_appointment_id(job_id),
        service_job_id=job_id,
        status=AppointmentStatus.ACTIVE,
        start_time=booking.start,
        duration_minutes=minutes,
        rescheduled_appointment_id=booking.replaces.appointment_id if booking.replaces else None,
    )
    repo.add_appointment(appointment, seller_id=job.seller_id, now=now, reschedule_reason_code=booking.reason_code)
    kind = JobEventKind.BOOKED if booking.replaces is None else JobEventKind.RESCHEDULED
    repo.set_job_status(job_id, JobEvent(kind, now, status, appointment.appointment_id, booking.reason_code))
    return appointment


def _check_reschedule_code(job: Job, code: str | None) -> None:
    market = marketplace(job.marketplace_id)
    if (
        code is None
        or market is None
        or not reason_codes.reschedule_code_valid(code, country=market.country, service_type=job.service_type)
    ):
        raise rules.booking_failure(job.service_job_id, rules.BAD_RESCHEDULE_CODE)


def _require_slot(session: Session, job_id: str, store: Store, start: datetime, minutes: int, now: datetime) -> None:
    """``start`` must be a listed slot of the store with capacity left (ACTIVE bookings counted)."""
    if start.second or start.microsecond:
        raise rules.booking_failure(job_id, rules.SLOT_NOT_AVAILABLE)
    report = slots_for(session, store=store, duration=minutes, start=start, end=start + timedelta(minutes=1), now=now)
    minute = to_minute(start)
    if not any(s == minute and capacity >= 1 for s, _, capacity in report.slots):
        raise rules.booking_failure(job_id, rules.SLOT_NOT_AVAILABLE)
