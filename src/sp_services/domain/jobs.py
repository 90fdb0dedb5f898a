"""Service jobs and appointments: domain objects and the job state machine as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .enums import AppointmentStatus, JobEventKind, JobStatus, OrderStatus, ServiceType
from .errors import Unprocessable, unprocessable

# The job state machine (docs/design.md §3), one row per (action, from-state) -> to-state.
# Actions: seller operations and the marketplace-side (operator) moves.
MARKETPLACE_STATES = (JobStatus.HOLD, JobStatus.PAYMENT_DECLINED, JobStatus.NOT_FULFILLABLE)
TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED})
# NOT_FULFILLABLE is the marketplace's last word on a job: nothing moves it on (it is not
# cancelled, released or held again), so for its order it is as final as a terminal state: an
# order whose jobs are all in these states is over (see order_outcome).
ORDER_FINAL = TERMINAL | {JobStatus.NOT_FULFILLABLE}
_OPEN = tuple(s for s in JobStatus if s not in ORDER_FINAL)

TRANSITIONS: dict[tuple[str, JobStatus], JobStatus] = {
    ("add_appointment", JobStatus.PENDING_SCHEDULE): JobStatus.NOT_SERVICED,
    ("add_appointment", JobStatus.HOLD): JobStatus.NOT_SERVICED,
    ("reschedule", JobStatus.NOT_SERVICED): JobStatus.NOT_SERVICED,
    ("complete", JobStatus.NOT_SERVICED): JobStatus.COMPLETED,
    ("cancel", JobStatus.PENDING_SCHEDULE): JobStatus.CANCELLED,
    ("cancel", JobStatus.NOT_SERVICED): JobStatus.CANCELLED,
    ("cancel", JobStatus.HOLD): JobStatus.CANCELLED,
    **{(f"mark_{target.value.lower()}", source): target for target in MARKETPLACE_STATES for source in _OPEN},
    # The marketplace releases a hold back to where the job can be scheduled again.
    ("release", JobStatus.HOLD): JobStatus.PENDING_SCHEDULE,
    ("release", JobStatus.PAYMENT_DECLINED): JobStatus.PENDING_SCHEDULE,
}


def can_transition(action: str, status: JobStatus) -> bool:
    """True when ``action`` is allowed from ``status``."""
    return (action, status) in TRANSITIONS


def not_allowed(job_id: str, status: JobStatus) -> Unprocessable:
    """The sandbox's 422 for an operation the job's state does not allow."""
    return unprocessable(f"Operation not allowed on job with jobId : {job_id} and jobState : {status.value}")


def transition(action: str, *, job_id: str, status: JobStatus) -> JobStatus:
    """The state after ``action``; raises the sandbox's "Operation not allowed" 422 otherwise."""
    target = TRANSITIONS.get((action, status))
    if target is None:
        raise not_allowed(job_id, status)
    return target


def order_outcome(statuses: Sequence[JobStatus]) -> OrderStatus | None:
    """The order's final status once none of its jobs can move on (COMPLETED if any job completed,
    else CANCELLED), or None while one still can."""
    if not statuses or any(s not in ORDER_FINAL for s in statuses):
        return None
    return OrderStatus.COMPLETED if JobStatus.COMPLETED in statuses else OrderStatus.CANCELLED


@dataclass(frozen=True)
class JobEvent:
    """One change of a job: what happened, when, and the job's status after it."""

    kind: JobEventKind
    at: datetime
    status: JobStatus
    appointment_id: str | None = None
    reason_code: str | None = None
    technician_ids: tuple[str, ...] = ()
    document_ids: tuple[str, ...] = ()


# The marketplace-side actions of the transitions table and the event each one records.
MARKETPLACE_EVENTS = {
    "mark_hold": JobEventKind.HOLD,
    "mark_payment_declined": JobEventKind.PAYMENT_DECLINED,
    "mark_not_fulfillable": JobEventKind.NOT_FULFILLABLE,
    "release": JobEventKind.RELEASED,
}


@dataclass(frozen=True)
class TechnicianRef:
    technician_id: str
    name: str | None


@dataclass(frozen=True)
class Appointment:
    appointment_id: str
    service_job_id: str
    status: AppointmentStatus
    start_time: datetime
    duration_minutes: int
    technicians: tuple[TechnicianRef, ...] = ()
    rescheduled_appointment_id: str | None = None
    poa: dict[str, Any] | None = None
    fulfillment: Fulfillment | None = None

    @property
    def end_time(self) -> datetime:
        return self.start_time + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class Fulfillment:
    """What setAppointmentFulfillmentData recorded: when the work happened, the technician's ETA,
    and who did it. Each part stays unset until a call provides it."""

    start: datetime | None = None
    end: datetime | None = None
    eta_start: datetime | None = None
    eta_end: datetime | None = None
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    """A service job as the seller sees it. Marketplace-supplied parts are kept as wire-shaped dicts."""

    service_job_id: str
    service_order_id: str
    seller_id: str
    marketplace_id: str
    store_id: str
    status: JobStatus
    service_type: ServiceType
    asin: str
    title: str | None
    quantity: int
    required_skills: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    service_job_provider_id: str | None = None
    buyer: dict[str, Any] | None = None
    service_location: dict[str, Any] | None = None
    preferred_appointment_times: tuple[tuple[datetime, int], ...] = ()
    associated_items: tuple[dict[str, Any], ...] = ()
    payments: tuple[dict[str, Any], ...] = ()
    appointments: tuple[Appointment, ...] = field(default=())

    def appointment(self, appointment_id: str) -> Appointment | None:
        """The job's appointment with this id, if it has one."""
        return next((a for a in self.appointments if a.appointment_id == appointment_id), None)

    def active_appointment(self) -> Appointment | None:
        """The job's ACTIVE appointment, if it has one (there is at most one)."""
        return next((a for a in self.appointments if a.status is AppointmentStatus.ACTIVE), None)


def payment(value: Decimal, currency: str, instrument: str | None = None) -> dict[str, Any]:
    """A wire-shaped payment record."""
    record: dict[str, Any] = {"amount": {"value": float(value), "currency": currency}}
    if instrument:
        record["instrument"] = instrument
    return record
