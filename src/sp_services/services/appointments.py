"""Appointment use cases: add, reschedule, assign technicians, record fulfillment (DESIGN.md §4-5).

Booking is one transaction that locks the job and then the store resource (PostgreSQL row locks;
SQLite write transactions are serialised by BEGIN IMMEDIATE), reads the store's capacity with
every ACTIVE appointment counted, and writes the appointment. Every request that takes capacity
from a store (bookings, reservations, schedule changes) takes the same store lock, so no
interleaving can book a slot past its capacity.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sp_services.domain import appointments as rules
from sp_services.domain import ids, reason_codes
from sp_services.domain.capacity import combine, minimum, to_minute
from sp_services.domain.catalog import Store, Technician
from sp_services.domain.enums import AppointmentStatus, JobStatus
from sp_services.domain.errors import ErrorItem, Unprocessable, unprocessable
from sp_services.domain.jobs import TERMINAL, Appointment, Fulfillment, Job, transition
from sp_services.domain.marketplaces import marketplace
from sp_services.domain.resources import Resource, ResourceKind
from sp_services.domain.times import parse_utc_strict
from sp_services.persistence.repositories.capacity import CapacityRepository
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services.capacity import capacity_views
from sp_services.services.documents import Vault, Verified, attach, verify_references
from sp_services.services.jobs import load_job
from sp_services.services.slots import slots_for


def _not_allowed(job: Job) -> Unprocessable:
    return unprocessable(f"Operation not allowed on job with jobId : {job.service_job_id} and jobState : {job.status}")


def _booking_store(session: Session, job: Job) -> tuple[Store, int | None]:
    """The job's store, locked for the rest of the transaction, and the service's duration (None
    when the seller no longer offers the ASIN: then no slot exists)."""
    CapacityRepository(session).resource(job.store_id, for_update=True)
    store = CatalogRepository(session).get_store(job.store_id)
    assert store is not None  # a job's store is a foreign key
    offering = CatalogRepository(session).get_offering(job.seller_id, job.marketplace_id, job.asin)
    return store, offering.duration_minutes if offering else None


def _require_slot(session: Session, job: Job, store: Store, start: datetime, minutes: int, now: datetime) -> None:
    """``start`` must be a listed slot of the store with capacity left (ACTIVE bookings counted)."""
    if start.second or start.microsecond:
        raise rules.booking_failure(job.service_job_id, rules.SLOT_NOT_AVAILABLE)
    report = slots_for(session, store=store, duration=minutes, start=start, end=start + timedelta(minutes=1), now=now)
    minute = to_minute(start)
    if not any(s == minute and capacity >= 1 for s, _, capacity in report.slots):
        raise rules.booking_failure(job.service_job_id, rules.SLOT_NOT_AVAILABLE)


def add_appointment(
    session: Session, *, seller_id: str, job_id: str, start_time: str, duration: int | None, now: datetime
) -> str:
    """addAppointmentForServiceJobByServiceJobId: book the job into a free slot of its store."""
    start = parse_utc_strict(start_time)
    job = load_job(session, seller_id=seller_id, job_id=job_id, family="appointment", for_update=True)
    if job.status in TERMINAL:
        raise _not_allowed(job)
    if job.active_appointment() is not None:
        raise rules.booking_failure(job_id, rules.ALREADY_ACTIVE)
    target = transition("add_appointment", job_id=job_id, status=job.status)
    rules.check_booking_time(job_id, start, now=now)
    store, minutes = _booking_store(session, job)
    if minutes is None:
        raise rules.booking_failure(job_id, rules.SLOT_NOT_AVAILABLE)
    rules.check_duration(job_id, duration, offering_minutes=minutes)
    _require_slot(session, job, store, start, minutes, now)
    appointment = Appointment(
        appointment_id=ids.new_appointment_id(job_id),
        service_job_id=job_id,
        status=AppointmentStatus.ACTIVE,
        start_time=start,
        duration_minutes=minutes,
    )
    repo = JobRepository(session)
    repo.add_appointment(appointment, seller_id=seller_id, now=now)
    repo.set_job_status(job_id, target, now=now)
    return appointment.appointment_id


@dataclass(frozen=True)
class Rescheduled:
    appointment_id: str
    warnings: list[ErrorItem]


def reschedule_appointment(
    session: Session,
    *,
    seller_id: str,
    job_id: str,
    appointment_id: str,
    start_time: str,
    duration: int | None,
    reason_code: str,
    now: datetime,
) -> Rescheduled:
    """rescheduleAppointmentForServiceJobByServiceJobId: the ACTIVE appointment is cancelled (its
    capacity released) and a new one booked in its place; assigned technicians are dropped."""
    start = parse_utc_strict(start_time)
    job = load_job(session, seller_id=seller_id, job_id=job_id, family="appointment", for_update=True)
    if job.status in TERMINAL:
        raise _not_allowed(job)
    old = next((a for a in job.appointments if a.appointment_id == appointment_id), None)
    if old is None or old.status is not AppointmentStatus.ACTIVE:
        raise rules.booking_failure(job_id, f"No active appointment exists with appointmentId : {appointment_id}.")
    target = transition("reschedule", job_id=job_id, status=job.status)
    rules.check_booking_time(job_id, start, now=now)
    market = marketplace(job.marketplace_id)
    if market is None or not reason_codes.reschedule_code_valid(
        reason_code, country=market.country, service_type=job.service_type
    ):
        raise rules.booking_failure(job_id, rules.BAD_RESCHEDULE_CODE)
    store, minutes = _booking_store(session, job)
    if minutes is None:
        raise rules.booking_failure(job_id, rules.SLOT_NOT_AVAILABLE)
    rules.check_duration(job_id, duration, offering_minutes=minutes)
    repo = JobRepository(session)
    # Cancel first so the old booking's capacity counts as free for the new one (same transaction:
    # if the new slot is not available, the whole request rolls back).
    repo.set_appointment_status(old.appointment_id, AppointmentStatus.CANCELLED, now=now)
    _require_slot(session, job, store, start, minutes, now)
    new = Appointment(
        appointment_id=ids.new_appointment_id(job_id),
        service_job_id=job_id,
        status=AppointmentStatus.ACTIVE,
        start_time=start,
        duration_minutes=minutes,
        rescheduled_appointment_id=old.appointment_id,
    )
    repo.add_appointment(new, seller_id=seller_id, now=now, reschedule_reason_code=reason_code)
    repo.set_job_status(job_id, target, now=now)
    dropped = [t.technician_id for t in old.technicians]
    return Rescheduled(new.appointment_id, [rules.unassigned_warning(dropped)] if dropped else [])


def _find_appointment(job: Job, appointment_id: str) -> Appointment | None:
    return next((a for a in job.appointments if a.appointment_id == appointment_id), None)


def _outside_schedule(
    session: Session, technicians: Sequence[Technician], store: Store, appointment: Appointment
) -> list[str]:
    """Technicians whose own schedule leaves no capacity over the appointment (not working then, on
    a break or a vacation). Technicians without any schedule are not capacity-managed."""
    if not technicians:
        return []
    kind, tz, markets = ResourceKind.TECHNICIAN, store.timezone, (store.marketplace_id,)
    resources = [Resource(t.technician_id, t.seller_id, kind, tz, markets) for t in technicians]
    span = (to_minute(appointment.start_time), to_minute(appointment.end_time))
    views = capacity_views(session, resources, span)
    out = []
    for tech in technicians:
        view = views[tech.technician_id]
        if view.has_schedule and minimum(combine(view.scheduled, view.reserved, operator.sub), *span) < 1:
            out.append(tech.technician_id)
    return out


def assign_resources(
    session: Session, *, seller_id: str, job_id: str, appointment_id: str, resource_ids: Sequence[str], now: datetime
) -> list[ErrorItem]:
    """assignAppointmentResources: replace the appointment's technicians. Returns warnings."""
    job = load_job(session, seller_id=seller_id, job_id=job_id, family="resources", for_update=True)
    if job.status in TERMINAL:
        raise _not_allowed(job)
    appointment = _find_appointment(job, appointment_id)
    if appointment is None:
        raise unprocessable(
            f"Failed to Update Appointment for jobId : {job_id}, appointmentId : {appointment_id}, "
            f"reason : No appointment exists with appointmentId: {appointment_id}"
        )
    if appointment.status is not AppointmentStatus.ACTIVE:
        raise unprocessable(f"Appointment metadata update is not allowed for appointmentId {appointment_id}")
    wanted = list(dict.fromkeys(resource_ids))
    known = CatalogRepository(session).technicians([r for r in wanted if ids.TECHNICIAN_ID.match(r)])
    for rid in wanted:
        if rid not in known or not known[rid].active:
            raise rules.invalid_resource(rid)
    technicians = [known[r] for r in wanted]
    store = CatalogRepository(session).get_store(job.store_id)
    assert store is not None
    own = [t for t in technicians if t.seller_id == seller_id]
    needs = rules.JobNeeds(
        seller_id=seller_id,
        store_id=job.store_id,
        required_skills=job.required_skills,
        location_type=(job.service_location or {}).get("serviceLocationType"),
    )
    failures = rules.technician_failures(
        technicians, needs, unavailable=_outside_schedule(session, own, store, appointment)
    )
    if failures:
        raise Unprocessable(failures)
    repo = JobRepository(session)
    busy = repo.busy_technicians(
        wanted, appointment.start_time, appointment.end_time, except_appointment=appointment_id
    )
    repo.set_technicians(appointment_id, wanted, now=now)
    repo.touch_job(job_id, now=now)
    return [rules.OVERBOOKED] if busy else []


@dataclass(frozen=True)
class FulfillmentInput:
    """The parts of a setAppointmentFulfillmentData body that were sent (None = not sent)."""

    fulfillment_time: Mapping[str, object] | None = None
    estimated_arrival: Mapping[str, object] | None = None
    resource_ids: tuple[str, ...] | None = None
    documents: tuple[Mapping[str, object], ...] | None = None


def set_fulfillment(
    session: Session,
    *,
    seller_id: str,
    job_id: str,
    appointment_id: str,
    data: FulfillmentInput,
    now: datetime,
    vault: Vault,
) -> None:
    """setAppointmentFulfillmentData: validate every part sent, report all failures together, and
    record the valid whole (parts not sent keep what an earlier call recorded)."""
    job = load_job(session, seller_id=seller_id, job_id=job_id, family="appointment", for_update=True)
    if job.status is not JobStatus.NOT_SERVICED:
        raise unprocessable(f"Job with id {job_id} can not be updated. Please check if the job is in valid status.")
    appointment = _find_appointment(job, appointment_id)
    if appointment is None:
        raise unprocessable(
            f"Appointment with id {appointment_id} is not present in the job. Please check the input again."
        )
    if appointment.status is not AppointmentStatus.ACTIVE:
        raise unprocessable(
            f"Appointment with appointment id {appointment_id} is not valid to update. Please check the input again"
        )
    recorded = appointment.fulfillment or Fulfillment()
    errors: list[ErrorItem] = []
    if data.resource_ids is not None:
        known = CatalogRepository(session).technicians([r for r in data.resource_ids if ids.TECHNICIAN_ID.match(r)])
        problem = rules.fulfillment_resources(data.resource_ids, known, seller_id=seller_id)
        if problem:
            errors.append(problem)
        else:
            recorded = replace(recorded, resources=tuple(dict.fromkeys(data.resource_ids)))
    if data.fulfillment_time is not None:
        worked = rules.fulfillment_time(data.fulfillment_time, now=now)
        if isinstance(worked, ErrorItem):
            errors.append(worked)
        else:
            recorded = replace(recorded, start=worked.start, end=worked.end)
    if data.estimated_arrival is not None:
        eta = rules.arrival_window(data.estimated_arrival)
        if isinstance(eta, ErrorItem):
            errors.append(eta)
        else:
            recorded = replace(recorded, eta_start=eta.start, eta_end=eta.end)
    verified: list[Verified] = []
    if data.documents:
        checked = verify_references(
            session, seller_id=seller_id, appointment_id=appointment_id, references=data.documents, now=now, vault=vault
        )
        if isinstance(checked, ErrorItem):
            errors.append(checked)
        else:
            verified = checked
    if errors:
        raise Unprocessable(errors)
    JobRepository(session).set_fulfillment(appointment_id, recorded, now=now)
    if verified:
        crew = recorded.resources or tuple(t.technician_id for t in appointment.technicians)
        attach(session, appointment=appointment, verified=verified, technician_ids=crew, now=now)
    JobRepository(session).touch_job(job_id, now=now)
