"""Appointments: add, reschedule, assign technicians, set fulfillment data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sp_services.api.context import authorize
from sp_services.api.params import json_body
from sp_services.domain import ids
from sp_services.domain.appointments import NO_ARTIFACTS
from sp_services.domain.errors import ErrorItem, InvalidInput
from sp_services.services import appointments as service

router = APIRouter(prefix="/service/v1", tags=["service"])

NBSP = "\u00a0"  # the sandbox's assign messages are spaced with no-break spaces


def _bad_path(job_id: str, appointment_id: str | None = None) -> list[str]:
    """Path parameters that fail the model's patterns, in the sandbox's (alphabetical) order."""
    bad = []
    if appointment_id is not None and not ids.APPOINTMENT_ID.match(appointment_id):
        bad.append("appointmentId")
    if not ids.SERVICE_JOB_ID.match(job_id):
        bad.append("serviceJobId")
    return bad


def _appointment_time(body: Any, bad: list[str]) -> tuple[str, int | None]:
    """``appointmentTime`` {startTime, durationInMinutes?} of an add/reschedule body."""
    time = body.get("appointmentTime") if isinstance(body, dict) else None
    if not isinstance(time, dict):
        bad.append("appointmentTime")
        return "", None
    start, duration = time.get("startTime"), time.get("durationInMinutes")
    if not isinstance(start, str):
        bad.append("appointmentTime.startTime")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int) or duration < 1):
        bad.append("appointmentTime.durationInMinutes")
    return (start if isinstance(start, str) else ""), duration


def _warnings(items: list[ErrorItem]) -> list[dict[str, str]]:
    return [{"code": w.code, "message": w.message} for w in items]


@router.post("/serviceJobs/{serviceJobId}/appointments", operation_id="addAppointmentForServiceJobByServiceJobId")
async def add_appointment(request: Request, serviceJobId: str) -> dict[str, Any]:
    principal, ctx = await authorize(request, "addAppointmentForServiceJobByServiceJobId")
    bad = _bad_path(serviceJobId)
    start, duration = _appointment_time(await json_body(request), bad)
    if bad:
        raise InvalidInput.params(bad)
    appointment_id = await ctx.run(
        lambda s, now: service.add_appointment(
            s, seller_id=principal.seller_id, job_id=serviceJobId, start_time=start, duration=duration, now=now
        )
    )
    return {"appointmentId": appointment_id}


@router.post(
    "/serviceJobs/{serviceJobId}/appointments/{appointmentId}",
    operation_id="rescheduleAppointmentForServiceJobByServiceJobId",
)
async def reschedule_appointment(request: Request, serviceJobId: str, appointmentId: str) -> dict[str, Any]:
    principal, ctx = await authorize(request, "rescheduleAppointmentForServiceJobByServiceJobId")
    body = await json_body(request)
    bad = _bad_path(serviceJobId, appointmentId)
    start, duration = _appointment_time(body, bad)
    code = body.get("rescheduleReasonCode") if isinstance(body, dict) else None
    if not isinstance(code, str) or not ids.REASON_CODE.match(code):
        bad.append("rescheduleReasonCode")
    if bad:
        raise InvalidInput.params(bad)
    assert isinstance(code, str)
    result = await ctx.run(
        lambda s, now: service.reschedule_appointment(
            s,
            seller_id=principal.seller_id,
            job_id=serviceJobId,
            appointment_id=appointmentId,
            start_time=start,
            duration=duration,
            reason_code=code,
            now=now,
        )
    )
    response: dict[str, Any] = {"appointmentId": result.appointment_id}
    if result.warnings:
        response["warnings"] = _warnings(result.warnings)
    return response


@router.put(
    "/serviceJobs/{serviceJobId}/appointments/{appointmentId}/resources", operation_id="assignAppointmentResources"
)
async def assign_resources(request: Request, serviceJobId: str, appointmentId: str) -> dict[str, Any]:
    principal, ctx = await authorize(request, "assignAppointmentResources")
    body = await json_body(request)
    bad = _bad_path(serviceJobId, appointmentId)
    if bad:
        raise InvalidInput.params(bad)
    resources = body.get("resources") if isinstance(body, dict) else None
    if resources is None:
        raise InvalidInput.of("InvalidInput", NBSP.join("Resources not provided in input JSON payload.".split(" ")))
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise InvalidInput.params(["resources"])
    if not resources:
        raise InvalidInput.of(
            "InvalidInput", NBSP.join("Resources must have size greater than or equal to 1.".split(" "))
        )
    # An entry without a resourceId names nobody (the sandbox accepts [{}]); the rest replace the crew.
    resource_ids = [r["resourceId"] for r in resources if r.get("resourceId") is not None]
    if not all(isinstance(r, str) for r in resource_ids):
        raise InvalidInput.params(["resources.resourceId"])
    warnings = await ctx.run(
        lambda s, now: service.assign_resources(
            s,
            seller_id=principal.seller_id,
            job_id=serviceJobId,
            appointment_id=appointmentId,
            resource_ids=resource_ids,
            now=now,
        )
    )
    return {"payload": {"warnings": _warnings(warnings)}} if warnings else {}


def _fulfillment_input(body: dict[str, Any]) -> service.FulfillmentInput:
    bad: list[str] = []

    def obj(name: str) -> dict[str, Any] | None:
        value = body.get(name)
        if value is not None and not isinstance(value, dict):
            bad.append(name)
            return None
        return value

    def listed(name: str, key: str) -> list[dict[str, Any]] | None:
        value = body.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, dict) and isinstance(v.get(key), str) for v in value):
            bad.append(name)
            return None
        return value

    resources = listed("appointmentResources", "resourceId")
    documents = listed("fulfillmentDocuments", "uploadDestinationId")
    data = service.FulfillmentInput(
        fulfillment_time=obj("fulfillmentTime"),
        estimated_arrival=obj("estimatedArrivalTime"),
        resource_ids=tuple(r["resourceId"] for r in resources) if resources is not None else None,
        documents=tuple(documents) if documents is not None else None,
    )
    if bad:
        raise InvalidInput.params(bad)
    return data


@router.put(
    "/serviceJobs/{serviceJobId}/appointments/{appointmentId}/fulfillment",
    operation_id="setAppointmentFulfillmentData",
    status_code=204,
    response_class=Response,
)
async def set_fulfillment(request: Request, serviceJobId: str, appointmentId: str) -> Response:
    principal, ctx = await authorize(request, "setAppointmentFulfillmentData")
    body = await json_body(request)
    parts = ("fulfillmentTime", "estimatedArrivalTime", "appointmentResources", "fulfillmentDocuments")
    if not isinstance(body, dict) or all(body.get(p) is None for p in parts):
        raise InvalidInput.of("InvalidInput", NO_ARTIFACTS)
    bad = _bad_path(serviceJobId, appointmentId)
    if bad:
        raise InvalidInput.params(bad)
    data = _fulfillment_input(body)
    await ctx.run(
        lambda s, now: service.set_fulfillment(
            s,
            seller_id=principal.seller_id,
            job_id=serviceJobId,
            appointment_id=appointmentId,
            data=data,
            now=now,
            document_store=ctx.document_store,
        )
    )
    return Response(status_code=204)
