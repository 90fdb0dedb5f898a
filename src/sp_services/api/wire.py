"""Domain -> wire (camelCase, the model's shapes). Absent values are left out, never sent as null."""

from __future__ import annotations

from typing import Any

from sp_services.domain.jobs import Appointment, Job
from sp_services.domain.times import format_utc


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def appointment(a: Appointment) -> dict[str, Any]:
    return _compact(
        {
            "appointmentId": a.appointment_id,
            "appointmentStatus": a.status.value,
            "appointmentTime": {"startTime": format_utc(a.start_time), "durationInMinutes": a.duration_minutes},
            "assignedTechnicians": [_compact({"technicianId": t.technician_id, "name": t.name}) for t in a.technicians],
            "rescheduledAppointmentId": a.rescheduled_appointment_id,
            "poa": a.poa,
        }
    )


def service_job(job: Job) -> dict[str, Any]:
    """The model's ServiceJob."""
    return _compact(
        {
            "createTime": format_utc(job.created_at),
            "serviceJobId": job.service_job_id,
            "serviceJobStatus": job.status.value,
            "scopeOfWork": _compact(
                {
                    "asin": job.asin,
                    "title": job.title,
                    "quantity": job.quantity,
                    "requiredSkills": list(job.required_skills),
                }
            ),
            "seller": {"sellerId": job.seller_id},
            "serviceJobProvider": (
                {"serviceJobProviderId": job.service_job_provider_id} if job.service_job_provider_id else None
            ),
            "preferredAppointmentTimes": [
                {"startTime": format_utc(s), "durationInMinutes": d} for s, d in job.preferred_appointment_times
            ],
            "appointments": [appointment(a) for a in job.appointments],
            "serviceOrderId": job.service_order_id,
            "marketplaceId": job.marketplace_id,
            "storeId": job.store_id,
            "buyer": job.buyer,
            "associatedItems": list(job.associated_items),
            "serviceLocation": job.service_location,
            "payments": list(job.payments),
        }
    )
