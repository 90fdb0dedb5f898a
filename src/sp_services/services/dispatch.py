"""The dispatcher's reads (docs/design.md §8): what needs action today, and a job with its whole
timeline and the actions its state allows. The actions themselves are the API's own use cases
(services/appointments.py, services/jobs.py), so the dashboard can do nothing the API refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sp_services.domain import reason_codes
from sp_services.domain.catalog import Store, Technician
from sp_services.domain.enums import JobEventKind, JobStatus
from sp_services.domain.jobs import Job, JobEvent, can_transition
from sp_services.domain.marketplaces import marketplace
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.dispatch import DispatchRepository, Need, NeedRow
from sp_services.persistence.repositories.jobs import JobRepository

__all__ = [
    "Catalog",
    "JobDetail",
    "Need",
    "NeedRow",
    "NeedsPage",
    "TimelineEntry",
    "catalog_of",
    "job_detail",
    "needs_page",
    "needs_today",
    "owns_job",
]

PAGE_SIZE = 20


@dataclass(frozen=True)
class Catalog:
    """The seller's stores in one marketplace and its technicians, by id (the pages' choices)."""

    stores: tuple[Store, ...]
    technicians: tuple[Technician, ...]

    def timezone_of(self, store_id: str) -> str | None:
        return next((s.timezone for s in self.stores if s.store_id == store_id), None)


def catalog_of(session: Session, *, seller_id: str, marketplace_id: str, technicians: bool = True) -> Catalog:
    """The seller's stores in the marketplace and (unless ``technicians`` is False: a page that
    names none need not read them) its technicians."""
    catalog = CatalogRepository(session)
    staff = tuple(catalog.technicians_of(seller_id)) if technicians else ()
    return Catalog(tuple(catalog.stores_of(seller_id, marketplace_id)), staff)


def needs_today(session: Session, *, seller_id: str, marketplace_id: str, now: datetime) -> dict[Need, int]:
    """How many jobs are on each of Today's lists (persistence/repositories/dispatch.py defines them)."""
    return DispatchRepository(session).counts(seller_id, marketplace_id, now=now)


@dataclass(frozen=True)
class NeedsPage:
    rows: list[NeedRow]
    next_key: str | None


def needs_page(
    session: Session, *, seller_id: str, marketplace_id: str, need: Need, after: str | None, now: datetime
) -> NeedsPage:
    """One page of one of Today's lists, and where the next one starts."""
    rows, next_key = DispatchRepository(session).page(
        need, seller_id, marketplace_id, now=now, after=after, limit=PAGE_SIZE
    )
    return NeedsPage(rows, next_key)


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a job's timeline, with its reason code's text and cause and the names of the
    technicians it names."""

    event: JobEvent
    reason: str | None
    cause: reason_codes.Cause | None
    technicians: tuple[str, ...]


@dataclass(frozen=True)
class JobDetail:
    """A job as the dispatcher sees it: its store, its timeline (oldest first), the seller's
    technicians, the reason codes valid for it, and the actions its state allows."""

    job: Job
    store: Store | None
    timeline: tuple[TimelineEntry, ...]
    technicians: tuple[Technician, ...]
    reschedule_codes: tuple[tuple[str, str], ...]  # (code, description)
    cancellation_codes: tuple[tuple[str, str], ...]
    actions: frozenset[str]  # of book, reschedule, assign, cancel, complete


def job_detail(session: Session, *, seller_id: str, job_id: str) -> JobDetail | None:
    """The seller's job, or None when no job of this seller has the id (another seller's job is
    told apart from an unknown one by nothing)."""
    job = JobRepository(session).get_job(job_id)
    if job is None or job.seller_id != seller_id:
        return None
    catalog = CatalogRepository(session)
    events = JobRepository(session).events_of(job_id)
    staff = catalog.technicians_of(seller_id)
    names = {t.technician_id: t.name for t in staff}
    timeline = tuple(
        TimelineEntry(
            e,
            _reason_text(e),
            reason_codes.cause_of(e.reason_code),
            tuple(names.get(t, t) for t in e.technician_ids),
        )
        for e in events
    )
    market = marketplace(job.marketplace_id)
    country = market.country if market else ""
    reschedule = tuple(
        (code, row[0])
        for code, row in reason_codes.RESCHEDULE_CODES.items()
        if reason_codes.reschedule_code_valid(code, country=country, service_type=job.service_type)
    )
    cancellation = tuple(
        (code, row[0])
        for code, row in reason_codes.CANCELLATION_CODES.items()
        if reason_codes.cancellation_code_valid(code, country=country, service_type=job.service_type)
    )
    return JobDetail(
        job,
        catalog.get_store(job.store_id),
        timeline,
        tuple(t for t in staff if t.active),
        reschedule,
        cancellation,
        _actions(job),
    )


def owns_job(session: Session, *, seller_id: str, job_id: str) -> bool:
    """True when the seller has a job with this id (the actions answer 404 otherwise, as for an
    unknown id, so another seller's job id reveals nothing)."""
    found = JobRepository(session).revision_of(job_id)
    return found is not None and found[0] == seller_id


def _reason_text(event: JobEvent) -> str | None:
    code = event.reason_code
    if not code:
        return None
    table = reason_codes.CANCELLATION_CODES if event.kind is JobEventKind.CANCELLED else reason_codes.RESCHEDULE_CODES
    row = table.get(code)
    return row[0] if row else None


def _actions(job: Job) -> frozenset[str]:
    """The actions the transitions table and the job's appointment allow now (the services check
    them again; this only decides what to offer)."""
    active = job.active_appointment()
    allowed = set()
    if active is None and can_transition("add_appointment", job.status):
        allowed.add("book")
    if active is not None and job.status is JobStatus.NOT_SERVICED:
        allowed |= {"reschedule", "assign"}
        if active.fulfillment is not None and active.fulfillment.end is not None:
            allowed.add("complete")
    if can_transition("cancel", job.status):
        allowed.add("cancel")
    return frozenset(allowed)
