"""Appointment use cases: add, reschedule, assign technicians, record fulfillment (docs/design.md §3-4).

Add and reschedule check what is their own (the job's state, the appointment given up) and leave
the booking itself to ``services/booking.py``, the one booking step.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from sp_services.domain import appointments as rules
from sp_services.domain import ids
from sp_services.domain.capacity import combine, minimum, to_minute
from sp_services.domain.catalog import Store, Technician
from sp_services.domain.enums import AppointmentStatus, JobEventKind, JobStatus
from sp_services.domain.errors import ErrorItem, Unprocessable, unprocessable
from sp_services.domain.jobs import TERMINAL, Appointment, Fulfillment, Job, JobEvent, not_allowed, transition
from sp_services.domain.resources import technician_resource
from sp_services.domain.times import parse_utc_strict
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services.booking import Booking, book
from sp_services.services.capacity import capacity_views
from sp_services.services.documents import DocumentStore, Verified, attach, verify_references
from sp_services.services.jobs import Wording, load_job


def add_appointment(
    session: Session, *, seller_id: str, job_id: str, start_time: str, duration: int | None, now: datetime
) -> str:
    """addAppointmentForServiceJobByServiceJobId: book the job into a free slot of its store."""
    start = parse_utc_strict(start_time)
    job = load_job(session, seller_id=seller_id, job_id=job_id, wording=Wording.APPOINTMENT, for_update=True)
    if job.status in TERMINAL:
        raise not_allowed(job_id, job.status)
    if job.active_appointment() is not None:
        raise rules.booking_failure(job_id, rules.ALREADY_ACTIVE)
    target = transition("add_appointment", job_id=job_id, status=job.status)
    appointment = book(session, job=job, booking=Booking(start, duration), status=target, now=now)
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
    job = load_job(session, seller_id=seller_id, job_id=job_id, wording=Wording.APPOINTMENT, for_update=True)
    if job.status in TERMINAL:
        raise not_allowed(job_id, job.status)
    old = job.appointment(appointment_id)
    if old is None or old.status is not AppointmentStatus.ACTIVE:
        raise rules.booking_failure(job_id, f"No active appointment exists with appointmentId : {appointment_id}.")
    target = transition("reschedule", job_id=job_id, status=job.status)
    booking = Booking(start, duration, replaces=old, reason_code=reason_code)
    new = book(session, job=job, booking=booking, status=target, now=now)
    dropped = [t.technician_id for t in old.technicians]
    return Rescheduled(new.appointment_id, [rules.unassigned_warning(dropped)] if dropped else [])


def _outside_schedule(
    session: Session, technicians: Sequence[Technician], store: Store, appointment: Appointment
) -> list[str]:
    """Technicians whose own schedule leaves no capacity over the appointment (not working then, on
    a break or a vacation). Technicians without any schedule are not capacity-managed."""
    if not technicians:
        return []
    resources = [technician_resource(t, store) for t in technicians]
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
    job = load_job(session, seller_id=seller_id, job_id=job_id, wording=Wording.RESOURCES, for_update=True)
    if job.status in TERMINAL:
        raise not_allowed(job.service_job_id, job.status)
    appointment = job.appointment(appointment_id)
    if appointment is None:
        raise unprocessable(
            f"Failed to Update Appointment for jobId : {job_id}, appointmentId : {appointment_id}, "
            f"reason : No appointment exists with appointmentId: {appointment_id}"
        )
    if appointment.status is not AppointmentStatus.ACTIVE:
        raise unprocessable(f"Appointment metadata update is not allowed for appointmentId {appointment_id}")
    return assign_technicians(session, job=job, appointment=appointment, resource_ids=resource_ids, now=now)


def assign_technicians(
    session: Session, *, job: Job, appointment: Appointment, resource_ids: Sequence[str], now: datetime
) -> list[ErrorItem]:
    """Make ``resource_ids`` the ACTIVE appointment's crew (the job locked, its state checked), or
    refuse with the RESOURCES_* failures; a technician busy elsewhere is a warning. The step
    shared by assignAppointmentResources and a booking at checkout."""
    wanted = list(dict.fromkeys(resource_ids))
    known = CatalogRepository(session).technicians([r for r in wanted if ids.TECHNICIAN_ID.match(r)])
    for rid in wanted:
        if rid not in known or not known[rid].active:
            raise rules.invalid_resource(rid)
    technicians = [known[r] for r in wanted]
    store = CatalogRepository(session).get_store(job.store_id)
    assert store is not None
    own = [t for t in technicians if t.seller_id == job.seller_id]
    needs = rules.JobNeeds(
        seller_id=job.seller_id,
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
    appointment_id = appointment.appointment_id
    busy = repo.busy_technicians(
        wanted, appointment.start_time, appointment.end_time, except_appointment=appointment_id
    )
    repo.set_technicians(appointment_id, wanted, now=now)
    event = JobEvent(JobEventKind.ASSIGNED, now, job.status, appointment_id, technician_ids=tuple(wanted))
    repo.record(job.service_job_id, event)
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
    document_store: DocumentStore,
) -> None:
    """setAppointmentFulfillmentData: validate every part sent, report all failures together, and
    record the valid whole (parts not sent keep what an earlier call recorded)."""
    job = load_job(session, seller_id=seller_id, job_id=job_id, wording=Wording.APPOINTMENT, for_update=True)
    if job.status is not JobStatus.NOT_SERVICED:
        raise unprocessable(f"Job with id {job_id} can not be updated. Please check if the job is in valid status.")
    appointment = job.appointment(appointment_id)
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
            session,
            seller_id=seller_id,
            appointment_id=appointment_id,
            references=data.documents,
            now=now,
            document_store=document_store,
        )
        if isinstance(checked, ErrorItem):
            errors.append(checked)
        else:
            verified = checked
    if errors:
        raise Unprocessable(errors)
    repo = JobRepository(session)
    repo.set_fulfillment(appointment_id, recorded, now=now)
    kind = JobEventKind.FULFILLMENT_RECORDED
    repo.record(job_id, JobEvent(kind, now, job.status, appointment_id, technician_ids=recorded.resources))
    if verified:
        crew = recorded.resources or tuple(t.technician_id for t in appointment.technicians)
        attach(session, appointment=appointment, verified=verified, technician_ids=crew, now=now)
        documents = tuple(v.document.upload_destination_id for v in verified)
        repo.record(
            job_id, JobEvent(JobEventKind.DOCUMENT_ATTACHED, now, job.status, appointment_id, document_ids=documents)
        )
