"""Service-job use cases: list, read, complete, cancel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session

from sp_services.domain import reason_codes
from sp_services.domain.enums import AppointmentStatus, JobEventKind, JobStatus, SortField
from sp_services.domain.errors import UNAUTHORIZED, InvalidInput, NotAuthorized, Unprocessable, unprocessable
from sp_services.domain.job_query import JobQuery
from sp_services.domain.jobs import (
    MARKETPLACE_EVENTS,
    Job,
    JobEvent,
    can_transition,
    not_allowed,
    order_outcome,
    transition,
)
from sp_services.domain.marketplaces import marketplace
from sp_services.domain.paging import Cursor, decode_cursor, encode_cursor
from sp_services.domain.times import format_utc_micros, parse_iso
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.job_listing import JobListing, Listed
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


Known = Callable[[str, int], bool]


def read_job(session: Session, *, seller_id: str, job_id: str, known: Known) -> Listed:
    """getServiceJobByServiceJobId for a caller that may hold the job already: the job's revision,
    and the whole job only when ``known(job_id, revision)`` says the caller does not have it."""
    repo = JobRepository(session)
    found = repo.revision_of(job_id)
    if found is None:
        raise Wording.CLOSING.not_found(job_id)
    if found[0] != seller_id:
        raise Wording.CLOSING.unauthorized()
    if known(job_id, found[1]):
        return Listed(job_id, found[1], None)
    return Listed(job_id, found[1], load_job(session, seller_id=seller_id, job_id=job_id))


@dataclass(frozen=True)
class JobPage:
    total: int
    jobs: list[Listed]  # the whole job, or None where the caller holds that revision already
    next_token: str | None
    previous_token: str | None


def list_jobs(
    session: Session,
    *,
    seller_id: str,
    query: JobQuery,
    page_token: str | None,
    secret: bytes,
    now: datetime,
    known: Known | None = None,
) -> JobPage:
    """getServiceJobs: filter, count, and one keyset page with opaque tokens both ways.

    A JOB_STATUS walk is bound to the instant of its first page (docs/design.md §3): the token
    carries it, so a job whose status changes mid-walk is still listed once, where it was."""
    query.validate()
    cursor = decode_cursor(page_token, secret=secret) if page_token else None
    if cursor and (cursor.sort != query.sort_field.value or cursor.order != query.sort_order.value):
        raise InvalidInput.params(["pageToken"], "pageToken was issued for a different sortField or sortOrder.")
    by_status = query.sort_field is SortField.JOB_STATUS
    key, as_of = (cursor.key, now) if cursor else (None, now)
    if cursor and by_status:
        key, as_of = _split_as_of(cursor.key)
    listing = JobListing(session)
    jobs, next_key, prev_key = listing.page(
        seller_id, query, key, backwards=cursor is not None and cursor.direction == "prev", as_of=as_of, known=known
    )
    total = listing.count(seller_id, query, as_of=as_of if by_status else None)

    def token(key: tuple[object, ...] | None, direction: str) -> str | None:
        if key is None:
            return None
        full = (*key, format_utc_micros(as_of)) if by_status else key
        return encode_cursor(Cursor(query.sort_field.value, query.sort_order.value, direction, full), secret=secret)

    return JobPage(total, jobs, token(next_key, "next"), token(prev_key, "prev"))


def _split_as_of(key: tuple[object, ...]) -> tuple[tuple[object, ...], datetime]:
    """A JOB_STATUS cursor key is the sort key followed by the walk's instant."""
    parsed = parse_iso(key[-1]) if key and isinstance(key[-1], str) else None
    if parsed is None:
        raise InvalidInput.params(["pageToken"], "pageToken is not a token returned by this server.")
    return key[:-1], parsed[0]


def _roll_up_order(repo: JobRepository, order_id: str, *, now: datetime) -> None:
    """When no job of the order can move on, the order completes (or cancels if none completed)."""
    final = order_outcome(repo.job_statuses_of_order(order_id))
    if final is not None:
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
    repo.set_job_status(job_id, JobEvent(JobEventKind.COMPLETED, now, target, appointment.appointment_id))
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
    target = transition("cancel", job_id=job_id, status=job.status)
    cancelled = appointment.appointment_id if appointment else None
    repo.set_job_status(job_id, JobEvent(JobEventKind.CANCELLED, now, target, cancelled, reason_code))
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
    cancelled = appointment.appointment_id if appointment else None
    repo.set_job_status(job_id, JobEvent(MARKETPLACE_EVENTS[action], now, target, cancelled))
    _roll_up_order(repo, job.service_order_id, now=now)
    return target
