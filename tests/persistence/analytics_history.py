"""Writing an analytics history (domain/analytics.py records) into the API's tables as the services
record it, in bulk: for tests/persistence/test_analytics_sql.py and benchmarks/analytics_bench.py."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from sp_services.domain.analytics import AppointmentRecord, History, JobRecord
from sp_services.domain.analytics_metrics import PaymentMetrics, Slice, TechnicianShare
from sp_services.domain.enums import AppointmentStatus, JobEventKind, JobStatus
from sp_services.domain.marketplaces import US
from sp_services.persistence import tables as t
from sp_services.persistence.db import Database


def write_catalog(
    session: Session,
    *,
    seller_id: str,
    zones: Sequence[tuple[str, str]],
    technicians: Sequence[str],
    at: datetime,
    prefix: str = "",
) -> None:
    """The seller, its stores (id, timezone) and technicians, ids prefixed."""
    session.execute(insert(t.Seller), [dict(seller_id=seller_id, name="s", marketplace_ids=[US], created_at=at)])
    session.execute(
        insert(t.Store),
        [
            dict(
                store_id=prefix + s,
                seller_id=seller_id,
                marketplace_id=US,
                name=s,
                timezone=z,
                postal_codes=[],
                service_location_types=["IN_HOME"],
                slot_step_minutes=60,
                booking_horizon_days=14,
                minimum_notice_minutes=0,
                requires_proof=False,
                created_at=at,
            )
            for s, z in zones
        ],
    )
    session.execute(
        insert(t.Technician),
        [
            dict(
                technician_id=prefix + tech,
                seller_id=seller_id,
                name=tech,
                skills=[],
                store_ids=[],
                service_location_types=["IN_HOME"],
                background_check="PASSED",
                active=True,
                created_at=at,
            )
            for tech in technicians
        ],
    )


def _status(job: JobRecord, chain: Sequence[AppointmentRecord]) -> JobStatus:
    if job.completed_at:
        return JobStatus.COMPLETED
    if job.cancelled_at:
        return JobStatus.CANCELLED
    if any(a.status is AppointmentStatus.ACTIVE for a in chain):
        return JobStatus.NOT_SERVICED
    return JobStatus.HOLD if chain else JobStatus.PENDING_SCHEDULE


def _event(job_id: str, kind: JobEventKind, at: datetime, status: JobStatus, appointment_id: str | None = None,
           reason_code: str | None = None) -> dict[str, Any]:  # fmt: skip
    return dict(
        service_job_id=job_id,
        at=at,
        kind=kind.value,
        status=status.value,
        appointment_id=appointment_id,
        reason_code=reason_code,
        detail=None,
    )


def write_jobs(session: Session, history: History, *, seller_id: str, prefix: str = "") -> None:
    """The history's jobs (one order each), appointments, crews and the job events the services
    record: CREATED, BOOKED or RESCHEDULED (with the reason), COMPLETED, CANCELLED (with the
    appointment it ended and the reason). Ids prefixed; stores and technicians must exist."""
    if not history.jobs:
        return
    p = prefix
    by_job: dict[str, list[AppointmentRecord]] = {}
    for a in history.appointments:
        by_job.setdefault(a.job_id, []).append(a)
    orders, jobs, events = [], [], []
    for job in history.jobs:
        chain, job_id = by_job.get(job.job_id, []), p + job.job_id
        status = _status(job, chain)
        orders.append(
            dict(service_order_id=job_id[-20:], seller_id=seller_id, marketplace_id=US, status="ACTIVE",
                 created_at=job.created_at, updated_at=job.created_at)
        )  # fmt: skip
        jobs.append(
            dict(
                service_job_id=job_id,
                service_order_id=job_id[-20:],
                seller_id=seller_id,
                marketplace_id=US,
                store_id=p + job.store_id,
                status=status.value,
                service_type="default",
                asin="B000000001",
                title=None,
                quantity=1,
                required_skills=[],
                preferred_appointment_times=[],
                associated_items=[],
                payments=list(job.payments),
                cancellation_reason_code=job.cancellation_reason_code,
                created_at=job.created_at,
                updated_at=job.created_at,
            )
        )
        events.append(_event(job_id, JobEventKind.CREATED, job.created_at, JobStatus.PENDING_SCHEDULE))
        for a in chain:
            kind = JobEventKind.RESCHEDULED if a.rescheduled_from else JobEventKind.BOOKED
            events.append(
                _event(
                    job_id, kind, a.booked_at, JobStatus.NOT_SERVICED, p + a.appointment_id, a.reschedule_reason_code
                )
            )
        if job.completed_at:
            done = next(a for a in chain if a.status is AppointmentStatus.COMPLETED)
            events.append(_event(job_id, JobEventKind.COMPLETED, job.completed_at, status, p + done.appointment_id))
        if job.cancelled_at:
            ended = p + job.cancelled_appointment_id if job.cancelled_appointment_id else None
            events.append(
                _event(job_id, JobEventKind.CANCELLED, job.cancelled_at, status, ended, job.cancellation_reason_code)
            )
    session.execute(insert(t.ServiceOrder), orders)
    session.execute(insert(t.ServiceJob), jobs)
    if history.appointments:
        session.execute(
            insert(t.AppointmentRow),
            [
                dict(
                    appointment_id=p + a.appointment_id,
                    service_job_id=p + a.job_id,
                    seller_id=seller_id,
                    status=a.status.value,
                    start_time=a.start,
                    duration_minutes=a.duration_minutes,
                    rescheduled_appointment_id=p + a.rescheduled_from if a.rescheduled_from else None,
                    reschedule_reason_code=a.reschedule_reason_code,
                    fulfillment_start=a.fulfillment_start,
                    fulfillment_end=a.fulfillment_end,
                    fulfillment_resources=[p + x for x in a.fulfilled_by] or None,
                    created_at=a.booked_at,
                    updated_at=a.booked_at,
                )
                for a in history.appointments
            ],
        )
        crew = [
            dict(appointment_id=p + a.appointment_id, technician_id=p + tech, position=i)
            for a in history.appointments
            for i, tech in enumerate(a.crew)
        ]
        if crew:
            session.execute(insert(t.AppointmentTechnician), crew)
    session.execute(insert(t.JobEvent), events)


@contextmanager
def rolled_back(db: Database) -> Iterator[Session]:
    """A session whose writes vanish afterwards, so examples never see each other's data."""
    with db.engine.connect() as conn:
        tx = conn.begin()
        try:
            yield Session(bind=conn)
        finally:
            tx.rollback()


def prefixed(sl: Slice, prefix: str) -> Slice:
    """The slice with its store and technician ids prefixed as written."""
    stores = tuple((prefix + s, z) for s, z in sl.zones)
    return Slice(sl.start, sl.end, sl.group_by, stores, tuple(prefix + x for x in sl.technician_ids))


def unprefixed(result: dict[Any, Any], prefix: str) -> dict[Any, Any]:
    """Report rows keyed (subject, period) with the subject's prefix taken off again."""
    return {(k[0].removeprefix(prefix), k[1]): v for k, v in result.items()}


def shares_unprefixed(result: dict[Any, PaymentMetrics], prefix: str) -> dict[Any, PaymentMetrics]:
    """Payment rows with the prefix taken off their technicians' ids."""
    return {
        k: PaymentMetrics(
            v.currency,
            v.gross,
            v.cancelled_value,
            v.jobs_paid,
            tuple(TechnicianShare(s.technician_id.removeprefix(prefix), s.gross, s.jobs_paid) for s in v.technicians),
        )
        for k, v in result.items()
    }
