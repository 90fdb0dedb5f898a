"""Appointment slots: getAppointmentSlots (ASIN + store) and getAppointmmentSlotsByJobId."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sp_services.api.context import authorize
from sp_services.api.params import Params, json_body, marketplace_of
from sp_services.domain import ids
from sp_services.domain.capacity import minute_text
from sp_services.domain.errors import InvalidInput
from sp_services.domain.times import format_utc_seconds
from sp_services.services import slots as service

router = APIRouter(prefix="/service/v1", tags=["service"])


def _report(report: service.SlotReport) -> Response:
    """The model's GetAppointmentSlotsResponse, written out directly: a 90-day report has thousands
    of slots, and building a dict per slot for a JSON encoder cost more than the slots themselves.
    Every value is a digit string, a fixed enum or an integer, so nothing needs escaping."""
    kind = "REAL_TIME_SCHEDULING" if report.real_time else "NON_REAL_TIME_SCHEDULING"
    slots = ",".join(
        f'{{"startTime":"{minute_text(s)}","endTime":"{minute_text(e)}","capacity":{c}}}' for s, e, c in report.slots
    )
    body = (
        f'{{"payload":{{"startTime":"{format_utc_seconds(report.start)}","endTime":"{format_utc_seconds(report.end)}",'
        f'"schedulingType":"{kind}","appointmentSlots":[{slots}]}}}}'
    )
    return Response(body.encode(), media_type="application/json")


@router.get("/appointmentSlots", operation_id="getAppointmentSlots")
async def get_appointment_slots(request: Request) -> Response:
    principal, ctx = await authorize(request, "getAppointmentSlots")
    p = Params(request, await json_body(request), body_fallbacks=("marketplaceIds",))
    asin = p.string("asin", required=True, pattern=ids.ASIN)
    store_id = p.string("storeId", required=True, max_length=100)
    start, end = p.string("startTime"), p.string("endTime")
    marketplace_id = marketplace_of(p)
    assert asin is not None and store_id is not None
    report = await ctx.run(
        lambda s, now: service.slots_for_asin(
            s,
            seller_id=principal.seller_id,
            asin=asin,
            store_id=store_id,
            marketplace_id=marketplace_id,
            start=start,
            end=end,
            now=now,
            reuse=ctx.settings.read_cache == "on",
        ),
        write=False,
        short=True,
    )
    return _report(report)


@router.get("/serviceJobs/{serviceJobId}/appointmentSlots", operation_id="getAppointmmentSlotsByJobId")
async def get_appointment_slots_by_job_id(request: Request, serviceJobId: str) -> Response:
    principal, ctx = await authorize(request, "getAppointmmentSlotsByJobId")
    if not ids.SERVICE_JOB_ID.match(serviceJobId):
        raise InvalidInput.params(["serviceJobId"])
    p = Params(request, await json_body(request), body_fallbacks=("marketplaceIds",))
    start, end = p.string("startTime"), p.string("endTime")
    marketplace_id = marketplace_of(p)
    report = await ctx.run(
        lambda s, now: service.slots_for_job(
            s,
            seller_id=principal.seller_id,
            job_id=serviceJobId,
            marketplace_id=marketplace_id,
            start=start,
            end=end,
            now=now,
            reuse=ctx.settings.read_cache == "on",
        ),
        write=False,
        short=True,
    )
    return _report(report)
