"""Service-job use cases: list, read, complete, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session

from sp_services.domain import reason_codes
from sp_services.domain.enums import AppointmentStatus, JobStatus, OrderStatus
from sp_services.domain.errors import UNAUTHORIZED, InvalidInput, NotAuthorized, Unprocessable, unprocessable
from sp_services.domain.job_query import JobQuery
from sp_services.domain.jobs import TERMINAL, Job, can_transition, not_allowed, transition
from sp_services.domain.marketplaces import marketplace
from sp_services.domain.paging import Cursor, decode_cursor, encode_cursor
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services.documents import has_proof


class Wording(Enum):
    """The sandbox words an unknown job and another seller's job differently per operation family:
    (not found, unauthorized), its exact texts."""

    CLOSING = (
        "Job not found for jobId {job_id}",
        "Not authorized to access this resource.Please check your input again",
    )
    APPOINTMENT = ("No job exist with jobId : {job_id}", UNAUTHORIZED)
    RESOURCES = ("No job exists with jobId : {job_id}", UNAUTHORIZED)

    def not_found(self, job_id: str) -> Unprocessable:
        return unprocessable(self.value[0].format(job_id=job_id))

    def unauthorized(self) -> NotAuthorized:
        return NotAuthorized.action(self.value[1])


def load_job(
    session: Session, *, seller_id: str, job_id: str, wording: Wording = Wording.CLOSING, for_update: bool = False
) -> Job:
    """The caller's job, or the operation family's 422 (unknown id) / 403 (another seller's job)."""
    job = JobRepository(session).get_job(job_id, for_update=for_update)
    if job is None:
        raise wording.not_found(job_id)
    if job.seller_id != seller_id:
        raise wording.unauthorized()
    return job


def get_job(session: Session, *, seller_id: str, job_id: str) -> Job:
    """getServiceJobByServiceJobId."""
    return load_job(session, seller_id=seller_id, job_id=job_id)


@dataclass(frozen=True)
class JobPage:
    total: int
    jobs: list[Job]
    next_token: str | None
    previous_token: str | None


def list_jobs(session: Session, *, seller_id: str, query: JobQuery, page_token: str | None, secret: bytes) -> JobPage:
    """getServiceJobs: filter, count, and one keyset page with opaque tokens both ways."""
    query.validate()
    cursor = decode_cursor(page_token, secret=secret) if page_token else None
    if cursor and (cursor.sort != query.sort_field.value or cursor.order != query.sort_order.value):
        raise InvalidInput.params(["pageToken"], "pageToken was issued for a different sortField or sortOrder.")
    repo = JobRepository(session)
    jobs, next_key, prev_key = repo.list_jobs(seller_id, query, cursor)
    total = repo.count_jobs(seller_id, query)

    def token(key: tuple[object, ...] | None, direction: str) -> str | None:
        if key is None:
            return None
        return encode_cursor(Cursor(query.sort_field.value, query.sort_order.value, direction, key), secret=secret)

    return JobPage(total, jobs, token(next_key, "next"), token(prev_key, "prev"))


def _roll_up_order(repo: JobRepository, order_id: str, *, now: datetime) -> None:
    """When no job of the order is left active, the order completes (or cancels if none completed)."""
    statuses = repo.job_statuses_of_order(order_id)
    if statuses and all(s in TERMINAL for s in statuses):
        final = OrderStatus.COMPLETED if JobStatus.COMPLETED in statuses else OrderStatus.CANCELLED
        repo.set_order_status(order_id, final, now=now)


def complete_job(session: Session, *, seller_id: str, job_id: str, now: datetime) -> None:
    """completeServiceJobByServiceJobId: the job's ACTIVE appointment and the job become COMPLETED."""
    job = load_job(session, seller_id=seller_id, job_id=job_id, for_update=True)
    target = transition("complete", job_id=job_id, status=job.status)
    appointment = job.active_appointment()
    if appointment is None:
        raise not_allowed(job_id, job.status)
    if appointment.fulfillment is None or appointment.fulfillment.end is None:
        # A job is closed after the work is recorded (setAppointmentFulfillmentData.fulfillmentTime).
        raise unprocessable(
            f"Failed to complete job with jobId : {job_id}, reason : Fulfillment time of appointment "
            f"{appointment.appointment_id} is not recorded."
        )
    store = CatalogRepository(session).get_store(job.store_id)
    if store is not None and store.requires_proof and not has_proof(session, appointment.appointment_id):
        raise unprocessable(
            f"Failed to complete job with jobId : {job_id}, reason : The store requires a proof of appointment "
            f"document for appointment {appointment.appointment_id}."
        )
    repo = JobRepository(session)
    repo.set_appointment_status(appointment.appointment_id, AppointmentStatus.COMPLETED, now=now)
    repo.set_job_status(job_id, target, now=now)
    _roll_up_order(repo, job.service_order_id, now=now)


def cancel_job(session: Session, *, seller_id: str, job_id: str, reason_code: str, now: datetime) -> None:
    """cancelServiceJobByServiceJobId: checks state, then the reason code for the marketplace and type."""
    job = load_job(session, seller_id=seller_id, job_id=job_id, for_update=True)
    if not can_transition("cancel", job.status):
        raise unprocessable(f"Job with jobId {job_id} and jobStatus {job.status} cannot be cancelled")
    market = marketplace(job.marketplace_id)
    if market is None or not reason_codes.cancellation_code_valid(
        reason_code, country=market.country, service_type=job.service_type
    ):
        raise unprocessable(f"Received invalid input reason code {reason_code} for jobId {job_id}")
    repo = JobRepository(session)
    appointment = job.active_appointment()
    if appointment is not None:
        repo.set_appointment_status(appointment.appointment_id, AppointmentStatus.CANCELLED, now=now)
    repo.set_job_status(
        job_id, transition("cancel", job_id=job_id, status=job.status), now=now, cancellation_reason_code=reason_code
    )
    _roll_up_order(repo, job.service_order_id, now=now)


def set_marketplace_status(session: Session, *, job_id: str, action: str, now: datetime) -> JobStatus:
    """Operator: move a job into (or out of) a marketplace-driven state: HOLD, PAYMENT_DECLINED,
    NOT_FULFILLABLE, or ``release`` back to PENDING_SCHEDULE. An ACTIVE appointment is cancelled,
    releasing its capacity, because a held job must be booked again before it can be served."""
    repo = JobRepository(session)
    job = repo.get_job(job_id, for_update=True)
    if job is None:
        raise Wording.CLOSING.not_found(job_id)
    target = transition(action, job_id=job_id, status=job.status)
    appointment = job.active_appointment()
    if appointment is not None:
        repo.set_appointment_status(appointment.appointment_id, AppointmentStatus.CANCELLED, now=now)
    repo.set_job_status(job_id, target, now=now)
    return target
