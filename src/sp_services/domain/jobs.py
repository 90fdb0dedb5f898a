"""Service jobs and appointments: domain objects and the job state machine as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .enums import AppointmentStatus, JobStatus, ServiceType
from .errors import Unprocessable, unprocessable

# The job state machine (docs/design.md §3), one row per (action, from-state) -> to-state.
# Actions: seller operations and the marketplace-side (operator) moves.
MARKETPLACE_STATES = (JobStatus.HOLD, JobStatus.PAYMENT_DECLINED, JobStatus.NOT_FULFILLABLE)
TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED})
_NON_TERMINAL = tuple(s for s in JobStatus if s not in TERMINAL)

TRANSITIONS: dict[tuple[str, JobStatus], JobStatus] = {
    ("add_appointment", JobStatus.PENDING_SCHEDULE): JobStatus.NOT_SERVICED,
    ("add_appointment", JobStatus.HOLD): JobStatus.NOT_SERVICED,
    ("reschedule", JobStatus.NOT_SERVICED): JobStatus.NOT_SERVICED,
    ("complete", JobStatus.NOT_SERVICED): JobStatus.COMPLETED,
    ("cancel", JobStatus.PENDING_SCHEDULE): JobStatus.CANCELLED,
    ("cancel", JobStatus.NOT_SERVICED): JobStatus.CANCELLED,
    ("cancel", JobStatus.HOLD): JobStatus.CANCELLED,
    **{(f"mark_{target.value.lower()}", source): target for target in MARKETPLACE_STATES for source in _NON_TERMINAL},
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
