"""Service orders, jobs, appointments and job events (getServiceJobs paging is in job_listing.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from sp_services.domain.enums import (
    AppointmentStatus,
    JobEventKind,
    JobStatus,
    OrderStatus,
    ServiceType,
)
from sp_services.domain.jobs import Appointment, Fulfillment, Job, JobEvent, TechnicianRef
from sp_services.domain.times import format_utc, parse_iso
from sp_services.persistence import tables as t
from sp_services.persistence.prepared import Prepared

from .base import Repository
from .capacity import MAX_SPAN, capacity_changed

J = t.ServiceJob
TAG_SKILL, TAG_PRODUCT_ORDER, TAG_TRACKING = "skill", "product_order", "tracking"


# Hot reads select table columns (Core rows), not ORM entities: no identity map or instance state
# per row, a third of the cost. A row has the same attribute names as the entity.
JOBS = J.__table__
APPOINTMENTS = t.AppointmentRow.__table__
_JOB = select(JOBS).where(JOBS.c.service_job_id == bindparam("job_id"))
JOB_BY_ID = Prepared(_JOB)
JOB_BY_ID_LOCKED = Prepared(_JOB.with_for_update())
APPOINTMENTS_OF = Prepared(
    select(APPOINTMENTS)
    .where(APPOINTMENTS.c.service_job_id.in_(bindparam("job_ids", expanding=True)))
    .order_by(APPOINTMENTS.c.created_at, APPOINTMENTS.c.appointment_id)
)
_AT, _T = t.AppointmentTechnician.__table__, t.Technician.__table__
CREWS_OF = Prepared(
    select(_AT.c.appointment_id, _AT.c.technician_id, _T.c.name)
    .join(_T, _T.c.technician_id == _AT.c.technician_id)
    .where(_AT.c.appointment_id.in_(bindparam("appointment_ids", expanding=True)))
    .order_by(_AT.c.appointment_id, _AT.c.position)
)
REVISION_OF = Prepared(select(JOBS.c.seller_id, JOBS.c.revision).where(JOBS.c.service_job_id == bindparam("job_id")))
JOBS_BY_IDS = Prepared(select(JOBS).where(JOBS.c.service_job_id.in_(bindparam("job_ids", expanding=True))))


def job_from_row(row: Any, appointments: Sequence[Appointment]) -> Job:
    """A job from a ``service_jobs`` row (a Core row or an entity: the same attribute names)."""
    preferred = tuple(
        (parsed[0], int(p["durationInMinutes"]))
        for p in row.preferred_appointment_times
        if (parsed := parse_iso(p["startTime"])) is not None
    )
    return Job(
        service_job_id=row.service_job_id,
        service_order_id=row.service_order_id,
        seller_id=row.seller_id,
        marketplace_id=row.marketplace_id,
        store_id=row.store_id,
        status=JobStatus(row.status),
        service_type=ServiceType(row.service_type),
        asin=row.asin,
        title=row.title,
        quantity=row.quantity,
        required_skills=tuple(row.required_skills),
        created_at=row.created_at,
        updated_at=row.updated_at,
        service_job_provider_id=row.service_job_provider_id,
        buyer=row.buyer,
        service_location=row.service_location,
        preferred_appointment_times=preferred,
        associated_items=tuple(row.associated_items),
        payments=tuple(row.payments),
        appointments=tuple(appointments),
    )


class JobRepository(Repository):
    # ---- writes -------------------------------------------------------------------------------
    def order_exists(self, service_order_id: str) -> bool:
        return self.session.get(t.ServiceOrder, service_order_id) is not None

    def add_order(self, *, service_order_id: str, seller_id: str, marketplace_id: str, now: datetime) -> None:
        self.session.add(
            t.ServiceOrder(
                service_order_id=service_order_id,
                seller_id=seller_id,
                marketplace_id=marketplace_id,
                status=OrderStatus.ACTIVE.value,
                created_at=now,
                updated_at=now,
            )
        )
        self.session.flush()

    def add_job(self, job: Job, *, product_order_ids: Sequence[str], tracking_ids: Sequence[str]) -> None:
        self.session.add(
            J(
                service_job_id=job.service_job_id,
                service_order_id=job.service_order_id,
                seller_id=job.seller_id,
                marketplace_id=job.marketplace_id,
                store_id=job.store_id,
                status=job.status.value,
                service_type=job.service_type.value,
                asin=job.asin,
                title=job.title,
                quantity=job.quantity,
                required_skills=list(job.required_skills),
                service_job_provider_id=job.service_job_provider_id,
                buyer=job.buyer,
                service_location=job.service_location,
                preferred_appointment_times=[
                    {"startTime": format_utc(s), "durationInMinutes": d} for s, d in job.preferred_appointment_times
                ],
                associated_items=list(job.associated_items),
                payments=list(job.payments),
                created_at=job.created_at,
                updated_at=job.updated_at,
            )
        )
        self.session.flush()
        tags = {(TAG_SKILL, s) for s in job.required_skills}
        tags |= {(TAG_PRODUCT_ORDER, p) for p in product_order_ids}
        tags |= {(TAG_TRACKING, x) for x in tracking_ids}
        self.session.add_all(t.JobTag(service_job_id=job.service_job_id, kind=k, value=v) for k, v in tags)
        self._add_event(job.service_job_id, JobEvent(JobEventKind.CREATED, job.created_at, job.status))
        self.session.flush()

    def add_appointment(
        self, appointment: Appointment, *, seller_id: str, now: datetime, reschedule_reason_code: str | None = None
    ) -> None:
        row = t.AppointmentRow(
            appointment_id=appointment.appointment_id,
            service_job_id=appointment.service_job_id,
            seller_id=seller_id,
            status=appointment.status.value,
            start_time=appointment.start_time,
            duration_minutes=appointment.duration_minutes,
            rescheduled_appointment_id=appointment.rescheduled_appointment_id,
            reschedule_reason_code=reschedule_reason_code,
            poa=appointment.poa,
            created_at=now,
            updated_at=now,
        )
        capacity_changed(
            self.session, select(J.store_id).where(J.service_job_id == appointment.service_job_id).scalar_subquery()
        )
        row.technicians = [
            t.AppointmentTechnician(technician_id=tech.technician_id, position=i)
            for i, tech in enumerate(appointment.technicians)
        ]
        self.session.add(row)
        self.session.flush()

    def set_job_status(self, job_id: str, event: JobEvent) -> None:
        """Move the job to ``event.status`` and record the event (every status change has one)."""
        values: dict[str, Any] = {"status": event.status.value, "updated_at": event.at, "revision": J.revision + 1}
        if event.kind is JobEventKind.CANCELLED:
            values["cancellation_reason_code"] = event.reason_code
        self.session.execute(update(J).where(J.service_job_id == job_id).values(**values))
        self._add_event(job_id, event)

    def record(self, job_id: str, event: JobEvent) -> None:
        """Record a change that leaves the job's status as it is; the job counts as updated then.

        Every change a job's wire shape shows (its appointments, crew, proof) is recorded so, and
        each one grows the job's ``revision``: what a reader keeps for a revision stays true."""
        self.session.execute(
            update(J).where(J.service_job_id == job_id).values(updated_at=event.at, revision=J.revision + 1)
        )
        self._add_event(job_id, event)

    def _add_event(self, job_id: str, event: JobEvent) -> None:
        detail: dict[str, Any] = {}
        if event.technician_ids:
            detail["technicianIds"] = list(event.technician_ids)
        if event.document_ids:
            detail["documentIds"] = list(event.document_ids)
        self.session.add(
            t.JobEvent(
                service_job_id=job_id,
                at=event.at,
                kind=event.kind.value,
                status=event.status.value,
                appointment_id=event.appointment_id,
                reason_code=event.reason_code,
                detail=detail or None,
            )
        )

    def events_of(self, job_id: str) -> list[JobEvent]:
        """The job's timeline, oldest first."""
        E = t.JobEvent
        rows = self.session.scalars(select(E).where(E.service_job_id == job_id).order_by(E.at, E.id))
        return [
            JobEvent(
                JobEventKind(r.kind),
                r.at,
                JobStatus(r.status),
                r.appointment_id,
                r.reason_code,
                tuple((r.detail or {}).get("technicianIds", ())),
                tuple((r.detail or {}).get("documentIds", ())),
            )
            for r in rows
        ]

    def set_appointment_status(self, appointment_id: str, status: AppointmentStatus, *, now: datetime) -> None:
        A = t.AppointmentRow
        job = select(A.service_job_id).where(A.appointment_id == appointment_id).scalar_subquery()
        capacity_changed(self.session, select(J.store_id).where(J.service_job_id == job).scalar_subquery())
        self.session.execute(
            update(t.AppointmentRow)
            .where(t.AppointmentRow.appointment_id == appointment_id)
            .values(status=status.value, updated_at=now)
        )

    def set_technicians(self, appointment_id: str, technician_ids: Sequence[str], *, now: datetime) -> None:
        """Replace the appointment's assigned technicians (in the given order)."""
        AT = t.AppointmentTechnician
        self.session.execute(delete(AT).where(AT.appointment_id == appointment_id))
        self.session.add_all(
            AT(appointment_id=appointment_id, technician_id=tid, position=i) for i, tid in enumerate(technician_ids)
        )
        self._touch(appointment_id, now)
        self.session.flush()

    def set_fulfillment(self, appointment_id: str, fulfillment: Fulfillment, *, now: datetime) -> None:
        self.session.execute(
            update(t.AppointmentRow)
            .where(t.AppointmentRow.appointment_id == appointment_id)
            .values(
                fulfillment_start=fulfillment.start,
                fulfillment_end=fulfillment.end,
                eta_start=fulfillment.eta_start,
                eta_end=fulfillment.eta_end,
                fulfillment_resources=list(fulfillment.resources) or None,
                updated_at=now,
            )
        )

    def set_poa(self, appointment_id: str, poa: dict[str, Any], *, now: datetime) -> None:
        self.session.execute(
            update(t.AppointmentRow)
            .where(t.AppointmentRow.appointment_id == appointment_id)
            .values(poa=poa, updated_at=now)
        )

    def _touch(self, appointment_id: str, now: datetime) -> None:
        self.session.execute(
            update(t.AppointmentRow).where(t.AppointmentRow.appointment_id == appointment_id).values(updated_at=now)
        )

    def busy_technicians(
        self, technician_ids: Sequence[str], start: datetime, end: datetime, *, except_appointment: str
    ) -> set[str]:
        """Those of ``technician_ids`` assigned to another ACTIVE appointment overlapping [start, end)."""
        if not technician_ids:
            return set()
        A, AT = t.AppointmentRow, t.AppointmentTechnician
        rows = self.session.execute(
            select(AT.technician_id, A.start_time, A.duration_minutes)
            .join(A, A.appointment_id == AT.appointment_id)
            .where(
                AT.technician_id.in_(technician_ids),
                A.status == AppointmentStatus.ACTIVE.value,
                A.appointment_id != except_appointment,
                A.start_time < end,
                A.start_time > start - MAX_SPAN,
            )
        )
        return {tid for tid, begin, minutes in rows if begin + timedelta(minutes=minutes) > start}

    def job_statuses_of_order(self, service_order_id: str) -> list[JobStatus]:
        rows = self.session.scalars(select(J.status).where(J.service_order_id == service_order_id))
        return [JobStatus(s) for s in rows]

    def order_status(self, service_order_id: str) -> OrderStatus | None:
        row = self.session.get(t.ServiceOrder, service_order_id)
        return None if row is None else OrderStatus(row.status)

    def set_order_status(self, service_order_id: str, status: OrderStatus, *, now: datetime) -> None:
        self.session.execute(
            update(t.ServiceOrder)
            .where(t.ServiceOrder.service_order_id == service_order_id)
            .values(status=status.value, updated_at=now)
        )

    # ---- reads --------------------------------------------------------------------------------
    def get_job(self, job_id: str, *, for_update: bool = False) -> Job | None:
        """The whole job with its appointments; ``for_update`` locks the row until commit."""
        row = (JOB_BY_ID_LOCKED if for_update else JOB_BY_ID).record(self.session, job_id=job_id)
        if row is None:
            return None
        return job_from_row(row, self.appointments_of([job_id])[job_id])

    def revision_of(self, job_id: str) -> tuple[str, int] | None:
        """The job's seller and revision, or None: all a reader needs when it holds that revision."""
        row = REVISION_OF.first(self.session, job_id=job_id)
        return None if row is None else (row[0], row[1])

    def jobs_by_ids(self, job_ids: Sequence[str]) -> dict[str, Job]:
        """The whole jobs with these ids (those that exist), with their appointments."""
        rows = JOBS_BY_IDS.records(self.session, job_ids=list(job_ids))
        appointments = self.appointments_of([r.service_job_id for r in rows])
        return {r.service_job_id: job_from_row(r, appointments[r.service_job_id]) for r in rows}

    def jobs_of_order(self, service_order_id: str) -> list[tuple[str, JobStatus]]:
        rows = self.session.execute(
            select(J.service_job_id, J.status)
            .where(J.service_order_id == service_order_id)
            .order_by(J.created_at, J.service_job_id)
        )
        return [(job_id, JobStatus(status)) for job_id, status in rows]

    def appointments_of(self, job_ids: Sequence[str]) -> dict[str, list[Appointment]]:
        result: dict[str, list[Appointment]] = defaultdict(list)
        if not job_ids:
            return result
        rows = APPOINTMENTS_OF.records(self.session, job_ids=list(job_ids))
        techs: dict[str, list[TechnicianRef]] = defaultdict(list)
        if rows:
            crews = CREWS_OF.rows(self.session, appointment_ids=[r.appointment_id for r in rows])
            for appt_id, tech_id, name in crews:
                techs[appt_id].append(TechnicianRef(tech_id, name))
        for r in rows:
            result[r.service_job_id].append(
                Appointment(
                    appointment_id=r.appointment_id,
                    service_job_id=r.service_job_id,
                    status=AppointmentStatus(r.status),
                    start_time=r.start_time,
                    duration_minutes=r.duration_minutes,
                    technicians=tuple(techs.get(r.appointment_id, ())),
                    rescheduled_appointment_id=r.rescheduled_appointment_id,
                    poa=r.poa,
                    fulfillment=Fulfillment(
                        r.fulfillment_start,
                        r.fulfillment_end,
                        r.eta_start,
                        r.eta_end,
                        tuple(r.fulfillment_resources or ()),
                    ),
                )
            )
        return result
