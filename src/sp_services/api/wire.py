"""Domain -> wire (camelCase, the model's shapes). Absent values are left out, never sent as null."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.responses import Response

from sp_services.domain.catalog import Store
from sp_services.domain.jobs import Appointment, Job
from sp_services.domain.times import format_utc
from sp_services.services.documents import UploadDestination
from sp_services.services.operator import OrderSummary


class JSON(Response):
    """A JSON response serialised once, with orjson: routes return it instead of a dict, so the
    framework's generic encoder (a walk of every value) is skipped."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


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


def service_job_json(job: Job) -> bytes:
    """The model's ServiceJob, serialised."""
    return orjson.dumps(service_job(job))


def job_page(total: int, next_token: str | None, previous_token: str | None, jobs: list[bytes]) -> bytes:
    """The model's GetServiceJobsResponse around jobs already serialised."""
    head: dict[str, Any] = {"totalResultSize": total}
    if next_token:
        head["nextPageToken"] = next_token
    if previous_token:
        head["previousPageToken"] = previous_token
    return b'{"payload":' + orjson.dumps(head)[:-1] + b',"jobs":[' + b",".join(jobs) + b"]}}"


def store(s: Store) -> dict[str, Any]:
    """Operator API: a created store."""
    return {
        "storeId": s.store_id,
        "sellerId": s.seller_id,
        "marketplaceId": s.marketplace_id,
        "name": s.name,
        "timezone": s.timezone,
    }


def order_summary(summary: OrderSummary) -> dict[str, Any]:
    """Operator API: an order's status and its jobs' statuses."""
    return {
        "serviceOrderId": summary.service_order_id,
        "status": summary.status.value,
        "jobs": [{"serviceJobId": job_id, "serviceJobStatus": status.value} for job_id, status in summary.jobs],
    }


def upload_destination(d: UploadDestination) -> dict[str, Any]:
    """The model's ServiceDocumentUploadDestination."""
    return {
        "uploadDestinationId": d.destination_id,
        "url": d.url,
        "encryptionDetails": {
            "standard": "AES",
            "initializationVector": base64.b64encode(d.key.iv).decode(),
            "key": base64.b64encode(d.key.key).decode(),
        },
        "headers": {"Content-Type": d.content_type},
    }
